/**
 * Private Redis topologies on free loopback ports, for the "Redis in production" tests: a master
 * with replicas, a Sentinel group, a Cluster. Every process is a private broker of
 * `test/support/brokers.ts` — its own directory, stopped by its pid when the test file ends (or
 * the worker dies) — and `kill()` sends SIGKILL to one, the way a crashed host disappears.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, startWithFreshPort, type PrivateBroker } from './brokers.js';
import { waitUntil } from './wait.js';

const run = promisify(execFile);

/** One private redis-server; `--replicaof` and the like in `extra`. */
export function startRedisServer(extra: string[] = [], name = 'redis'): Promise<PrivateBroker> {
  return startWithFreshPort(name, (port, workDir) => ({
    url: `redis://127.0.0.1:${port}`,
    command: 'redis-server',
    args: [
      ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      ...['--daemonize', 'no', '--dir', workDir],
      // A replica syncs at once, instead of the master waiting 5 s for others to share the transfer.
      ...['--repl-diskless-sync-delay', '0'],
      ...extra,
    ],
  }));
}

/** SIGKILL: the process is gone at once, with whatever it had not replicated. */
export async function kill(broker: PrivateBroker): Promise<void> {
  try {
    process.kill(broker.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
  await broker.stop(); // waits for the exit
}

/** `INFO replication` of one server as a map. */
export async function replicationInfo(port: number): Promise<Map<string, string>> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const text = await redis.info('replication');
    return new Map(
      text
        .split('\r\n')
        .filter((line) => line.includes(':'))
        .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]),
    );
  } finally {
    redis.disconnect();
  }
}

export interface ReplicatedRedis {
  master: PrivateBroker;
  replicas: PrivateBroker[];
}

/** A master and `replicas` replicas of it, each replica online (synced, acknowledging). */
export async function startReplicatedRedis(replicas = 1): Promise<ReplicatedRedis> {
  const master = await startRedisServer([], 'redis-master');
  const started: PrivateBroker[] = [];
  for (let i = 0; i < replicas; i++) {
    started.push(await startRedisServer(['--replicaof', '127.0.0.1', String(master.port)], 'redis-replica'));
  }
  await waitUntil(async () => {
    const info = await replicationInfo(master.port);
    const online = [...info].filter(
      ([key, value]) => /^slave\d+$/.test(key) && value.includes('state=online'),
    );
    return online.length === replicas;
  }, 15_000);
  return { master, replicas: started };
}

export interface SentinelGroup extends ReplicatedRedis {
  sentinels: PrivateBroker[];
  /** The name the sentinels monitor the master by. */
  masterName: string;
  /** `127.0.0.1:p1,127.0.0.1:p2,…`: REDIS_SENTINELS. */
  sentinelList: string;
  /** The master's port as the sentinels name it now. */
  currentMasterPort(): Promise<number>;
  /** Stops the sentinels, then the master and the replicas. */
  stop(): Promise<void>;
}

/**
 * A master, its replicas and `sentinels` sentinels (`redis-server --sentinel`) monitoring it with
 * a quorum of 2 and `down-after-milliseconds` of `downAfterMs`; resolves once every sentinel knows
 * the others and the replicas.
 */
export async function startSentinelGroup(
  options: { replicas?: number; sentinels?: number; downAfterMs?: number } = {},
): Promise<SentinelGroup> {
  const { replicas: replicaCount = 1, sentinels: sentinelCount = 3, downAfterMs = 1000 } = options;
  const masterName = 'receiver-master';
  const { master, replicas } = await startReplicatedRedis(replicaCount);
  const sentinels: PrivateBroker[] = [];
  for (let i = 0; i < sentinelCount; i++) {
    sentinels.push(
      await startWithFreshPort('sentinel', (port, workDir) => {
        const config = join(workDir, 'sentinel.conf');
        writeFileSync(
          config,
          [
            `port ${port}`,
            'bind 127.0.0.1',
            `dir ${workDir}`,
            `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 2`,
            `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
            `sentinel failover-timeout ${masterName} 10000`,
            `sentinel parallel-syncs ${masterName} 1`,
            '',
          ].join('\n'),
        );
        return { url: `redis://127.0.0.1:${port}`, command: 'redis-server', args: [config, '--sentinel'] };
      }),
    );
  }
  const ask = async (sentinel: PrivateBroker, ...args: string[]): Promise<unknown> => {
    const client = new Redis({
      port: sentinel.port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 1,
    });
    try {
      await client.connect();
      return await client.call('SENTINEL', ...args);
    } finally {
      client.disconnect();
    }
  };
  // Each sentinel has found the other sentinels (hello messages) and the replicas.
  await waitUntil(
    async () => {
      for (const sentinel of sentinels) {
        const info = (await ask(sentinel, 'MASTER', masterName)) as string[];
        const field = (name: string): string | undefined => info[info.indexOf(name) + 1];
        if (field('num-other-sentinels') !== String(sentinelCount - 1)) return false;
        if (field('num-slaves') !== String(replicaCount)) return false;
      }
      return true;
    },
    20_000,
    100,
  );
  return {
    master,
    replicas,
    sentinels,
    masterName,
    sentinelList: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
    async currentMasterPort() {
      for (const sentinel of sentinels) {
        try {
          const [, port] = (await ask(sentinel, 'GET-MASTER-ADDR-BY-NAME', masterName)) as [string, string];
          return Number(port);
        } catch {
          // That sentinel is not answering: ask the next.
        }
      }
      throw new Error('no sentinel answered');
    },
    async stop() {
      for (const broker of [...sentinels, master, ...replicas]) await broker.stop();
    },
  };
}

export interface ClusterNode {
  broker: PrivateBroker;
  port: number;
}

export interface RedisCluster {
  nodes: ClusterNode[];
  /** `127.0.0.1:p1,…` of every node: REDIS_CLUSTER_NODES. */
  seedList: string;
  /** The node serving `slot` as master now (asked of a live node). */
  masterOf(slot: number): Promise<ClusterNode>;
  /** Whether every live node reports cluster_state:ok. */
  healthy(): Promise<boolean>;
}

/**
 * `masters` masters with `replicasPerMaster` replicas each, made into a cluster by
 * `redis-cli --cluster create`, with `cluster-node-timeout` of `nodeTimeoutMs` (a failed master's
 * replica takes over about that long after it died). Each node gets a free cluster bus port of
 * its own (`cluster-port`) rather than port + 10000, which may be taken or beyond 65535.
 */
export async function startRedisCluster(
  options: { masters?: number; replicasPerMaster?: number; nodeTimeoutMs?: number } = {},
): Promise<RedisCluster> {
  const { masters = 3, replicasPerMaster = 1, nodeTimeoutMs = 1000 } = options;
  const nodes: ClusterNode[] = [];
  for (let i = 0; i < masters * (1 + replicasPerMaster); i++) {
    const busPort = await freePort();
    const broker = await startRedisServer(
      [
        ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
        ...['--cluster-node-timeout', String(nodeTimeoutMs), '--cluster-port', String(busPort)],
      ],
      'redis-cluster',
    );
    nodes.push({ broker, port: broker.port });
  }
  await run('redis-cli', [
    '--cluster',
    'create',
    ...nodes.map((n) => `127.0.0.1:${n.port}`),
    '--cluster-replicas',
    String(replicasPerMaster),
    '--cluster-yes',
  ]);
  const clusterInfo = async (port: number): Promise<string> => {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await client.connect();
      return (await client.call('CLUSTER', 'INFO')) as string;
    } finally {
      client.disconnect();
    }
  };
  const live = (): ClusterNode[] => nodes.filter((n) => n.broker.pid > 0 && isAlive(n.broker.pid));
  const cluster: RedisCluster = {
    nodes,
    seedList: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    async masterOf(slot: number) {
      for (const node of live()) {
        const client = new Redis({
          port: node.port,
          host: '127.0.0.1',
          lazyConnect: true,
          maxRetriesPerRequest: 1,
        });
        try {
          await client.connect();
          const ranges = (await client.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
          const range = ranges.find(([from, to]) => from <= slot && slot <= to);
          const port = range?.[2][1];
          const master = nodes.find((n) => n.port === port);
          if (master) return master;
        } catch {
          // Ask the next node.
        } finally {
          client.disconnect();
        }
      }
      throw new Error(`no node serves slot ${slot}`);
    },
    async healthy() {
      for (const node of live()) {
        try {
          if (!(await clusterInfo(node.port)).includes('cluster_state:ok')) return false;
        } catch {
          return false;
        }
      }
      return true;
    },
  };
  await waitUntil(() => cluster.healthy(), 20_000, 100);
  return cluster;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
