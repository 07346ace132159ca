/**
 * Private Kafka clusters for the tests: librdkafka's mock cluster, a Kafka-protocol implementation
 * maintained with librdkafka for testing clients, hosted by a `kcat` process (Debian's `kcat`):
 *
 *   kcat -b unused:9092 -X test.mock.num.brokers=3 -C -t <topic>
 *
 * prints "Mock cluster enabled: … replaced with 127.0.0.1:A,127.0.0.1:B,127.0.0.1:C" and serves
 * those brokers to other processes for as long as it runs: stopping it is a full-cluster outage,
 * and the next cluster starts empty, on new ports. Topics are created on demand with 4 partitions.
 * Known limits (librdkafka 2.0.2): no CreateTopics, no SASL or TLS, and KafkaJS's idempotent
 * producer fails there.
 *
 * Every cluster is a child process of the test worker, stopped by its pid only (also by an
 * `afterAll` of this module, and by the kernel through `setpriv --pdeathsig` should the worker die).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import { waitUntil } from './wait.js';

export interface MockKafkaCluster {
  /** `127.0.0.1:port` of each broker. */
  readonly brokers: readonly string[];
  /** The brokers as KAFKA_BROKERS takes them. */
  readonly bootstrap: string;
  readonly pid: number;
  /** SIGTERM, then SIGKILL after 3 s; resolves once the process has exited. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const running = new Set<ChildProcess>();

/** Starts a mock cluster of `brokers` brokers and resolves once it printed where they listen. */
export async function startMockKafka(brokers = 3): Promise<MockKafkaCluster> {
  const kcat = findKcat();
  const dir = mkdtempSync(join(tmpdir(), 'mock-kafka-'));
  const logPath = join(dir, 'kcat.log');
  // Output goes to a file rather than a pipe: no open handle keeps the test process alive.
  const log = openSync(logPath, 'a');
  // kcat needs something to do to stay up: it consumes a topic of its own that nothing writes to.
  const args = [
    '-b',
    'unused:9092',
    '-X',
    `test.mock.num.brokers=${brokers}`,
    '-C',
    '-t',
    '_mock_host',
    '-q',
  ];
  let child: ChildProcess;
  try {
    child = spawn(...withParentDeathSignal(kcat, args), { stdio: ['ignore', 'ignore', log] });
  } finally {
    closeSync(log);
  }
  child.unref();
  running.add(child);
  const exited = once(child, 'exit').then(() => {
    running.delete(child);
    rmSync(dir, { recursive: true, force: true });
  });
  // kcat prints the brokers' addresses once the cluster listens.
  const announced = (): string | undefined => /replaced with (\S+)/.exec(readLog(logPath))?.[1];
  await waitUntil(() => announced() !== undefined || child.exitCode !== null, START_TIMEOUT_MS, 25).catch(
    () => undefined,
  );
  const list = announced();
  if (list === undefined) {
    child.kill('SIGKILL');
    throw new Error(`kcat's mock cluster did not start:\n${readLog(logPath)}`);
  }
  return {
    brokers: list.split(','),
    bootstrap: list,
    pid: child.pid as number,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/**
 * A fixed bootstrap address in front of whichever mock cluster is current — what a DNS name or a
 * load balancer is in front of a real cluster: each new connection is forwarded to the first
 * broker of `target()`. Clients learn the brokers' own addresses from its metadata, so after the
 * cluster is replaced they find the new brokers by bootstrapping here again.
 */
export interface BootstrapProxy {
  readonly address: string;
  close(): Promise<void>;
}

export async function startBootstrapProxy(target: () => string): Promise<BootstrapProxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const [host, port] = (target().split(',')[0] as string).split(':');
    const upstream = connect(Number(port), host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * A one-broker "cluster" with no topics and `auto.create.topics.enable=false`: it speaks just
 * enough of the Kafka protocol (ApiVersions v0–2, Metadata v0–1) to answer every topic a client
 * asks for with UNKNOWN_TOPIC_OR_PARTITION, as a real broker configured so does. The mock
 * cluster cannot do this: it creates every topic it is asked about.
 */
export async function startClusterWithoutTopics(): Promise<BootstrapProxy> {
  const API_VERSIONS = 18;
  const METADATA = 3;
  const sockets = new Set<Socket>();
  let port = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const request = pending.subarray(4, 4 + pending.readInt32BE(0));
        pending = pending.subarray(4 + request.length);
        const apiKey = request.readInt16BE(0);
        const version = request.readInt16BE(2);
        const correlationId = request.readInt32BE(4);
        // Header: api_key, api_version, correlation_id, client_id (int16 length, -1 for null).
        const clientIdLength = request.readInt16BE(8);
        const body = request.subarray(10 + Math.max(0, clientIdLength));
        const out = new Writer().int32(correlationId);
        if (apiKey === API_VERSIONS) {
          out.int16(0).int32(3);
          for (const [key, max] of [
            [0, 2], // Produce: never called, there being no topic
            [METADATA, 1],
            [API_VERSIONS, 2],
          ] as const)
            out.int16(key).int16(0).int16(max);
          if (version >= 1) out.int32(0); // throttle_time_ms
        } else if (apiKey === METADATA) {
          out.int32(1).int32(0).string('127.0.0.1').int32(port);
          if (version >= 1) out.int16(-1).int32(0); // rack, controller_id
          const topics = body.readInt32BE(0);
          out.int32(Math.max(0, topics));
          for (let i = 0, at = 4; i < topics; i++) {
            const length = body.readInt16BE(at);
            const name = body.toString('utf8', at + 2, at + 2 + length);
            at += 2 + length;
            out.int16(3).string(name); // UNKNOWN_TOPIC_OR_PARTITION
            if (version >= 1) out.int8(0); // is_internal
            out.int32(0); // no partitions
          }
        } else {
          socket.destroy();
          return;
        }
        const response = out.bytes();
        const size = Buffer.alloc(4);
        size.writeInt32BE(response.length);
        socket.write(Buffer.concat([size, response]));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Big-endian Kafka protocol primitives. */
class Writer {
  private readonly parts: Buffer[] = [];

  int8(value: number): this {
    return this.push(1, (b) => b.writeInt8(value));
  }

  int16(value: number): this {
    return this.push(2, (b) => b.writeInt16BE(value));
  }

  int32(value: number): this {
    return this.push(4, (b) => b.writeInt32BE(value));
  }

  string(value: string): this {
    const bytes = Buffer.from(value);
    this.int16(bytes.length);
    this.parts.push(bytes);
    return this;
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }

  private push(size: number, write: (b: Buffer) => void): this {
    const b = Buffer.alloc(size);
    write(b);
    this.parts.push(b);
    return this;
  }
}

export interface ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | undefined;
  readonly value: Buffer;
  readonly headers: Record<string, string>;
}

/**
 * Reads records back the way a consumer service would: a KafkaJS consumer in a group of its own,
 * from the beginning of each topic, until `count` records arrived or `until` holds for those read
 * so far (or `timeoutMs` passed: it then returns what it has). Joining a group of the mock cluster
 * takes it about 3 s.
 */
export async function consumeRecords(
  bootstrap: string,
  topics: readonly (string | RegExp)[],
  until: number | ((records: readonly ConsumedRecord[]) => boolean),
  timeoutMs = 20_000,
): Promise<ConsumedRecord[]> {
  const enoughRead =
    typeof until === 'number' ? (records: readonly ConsumedRecord[]) => records.length >= until : until;
  const kafka = new Kafka({
    clientId: 'test-reader',
    brokers: bootstrap.split(','),
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({
    groupId: `test-reader-${process.pid}-${Math.random().toString(36).slice(2)}`,
    // A fetch waits at most this long for new records: disconnect() waits for the fetch under way.
    maxWaitTimeInMs: 100,
  });
  const records: ConsumedRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    let done: () => void = () => undefined;
    const enough = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      eachMessage: ({ topic, partition, message }) => {
        records.push({
          topic,
          partition,
          offset: Number(message.offset),
          key: message.key?.toString(),
          value: message.value ?? Buffer.alloc(0),
          headers: headerText(message.headers),
        });
        if (enoughRead(records)) done();
        return Promise.resolve();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([enough, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  } finally {
    await consumer.disconnect();
  }
  return records;
}

function headerText(headers: IHeaders | undefined): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) text[name] = String(value);
  return text;
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** kcat on PATH (Debian's `kcat` package; `.ci/run` installs it). */
function findKcat(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter).concat('/usr/bin', '/usr/local/bin')) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, 'kcat'), constants.X_OK);
      return join(dir, 'kcat');
    } catch {
      // Not here.
    }
  }
  throw new Error('kcat was not found on PATH; install it (apt-get install kcat)');
}

/** `setpriv --pdeathsig KILL` (util-linux) when present: the kernel ends the cluster with the worker. */
function withParentDeathSignal(command: string, args: string[]): [string, string[]] {
  for (const setpriv of ['/usr/bin/setpriv', '/bin/setpriv']) {
    try {
      accessSync(setpriv, constants.X_OK);
      return [setpriv, ['--pdeathsig', 'KILL', '--', command, ...args]];
    } catch {
      // Not here.
    }
  }
  return [command, args];
}

function killAllNow(): void {
  for (const child of running) child.kill('SIGKILL');
}

process.on('exit', killAllNow);

const jestAfterAll = (globalThis as { afterAll?: (fn: () => Promise<void>) => void }).afterAll;
if (typeof jestAfterAll === 'function') {
  jestAfterAll(async () => {
    const children = [...running];
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(
      children.map((child) => (child.exitCode === null ? once(child, 'exit') : Promise.resolve([]))),
    );
  });
}
