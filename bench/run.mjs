#!/usr/bin/env node
// `npm run bench`: the built receiver (production settings, every default feature on) against a bare
// hand-written floor handler, loaded in turn by the same generator (wrk, or autocannon where wrk is
// not installed) for alternating rounds; then the receiver with 1,000 bots against the 1-bot run.
// Prints per-round rows, medians, ratios and the targets; checks that the queue holds exactly one
// entry per 200 answered, and exits non-zero when it does not (zero loss, zero doubles).
//
// Then what dedup holds in Redis per update: the receiver's bitmaps against one key per update.
//
//   node bench/run.mjs [--duration 10] [--rounds 5] [--connections 64] [--bots 1000] [--smoke]
//                      [--only floor,receiver,many,kafka,dedup]
//   BENCH_GENERATOR=autocannon forces autocannon even where wrk is installed.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { freePort } from '../scripts/free-port.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECRET = 'bench_secret';

function parseArgs(argv) {
  const options = { duration: 10, rounds: 5, connections: 64, smoke: false, manyBots: 1000, only: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--smoke') options.smoke = true;
    else if (arg === '--duration') options.duration = Number(argv[++i]);
    else if (arg === '--rounds') options.rounds = Number(argv[++i]);
    else if (arg === '--connections') options.connections = Number(argv[++i]);
    else if (arg === '--bots') options.manyBots = Number(argv[++i]);
    else if (arg === '--only') options.only = new Set(argv[++i].split(','));
    else throw new Error(`unknown argument ${arg}`);
  }
  if (options.smoke) Object.assign(options, { duration: 1, rounds: 1, connections: 16, manyBots: 50 });
  return options;
}

/** A realistic ~600-byte text message update; `update_id` is filled in per request. */
function updateTemplate() {
  return JSON.stringify({
    update_id: 0,
    message: {
      message_id: 48213,
      from: {
        id: 271828182,
        is_bot: false,
        first_name: 'Ada',
        last_name: 'Lovelace',
        username: 'ada_l',
        language_code: 'en',
      },
      chat: { id: 271828182, first_name: 'Ada', last_name: 'Lovelace', username: 'ada_l', type: 'private' },
      date: 1795210000,
      text: 'Hello! Could you tell me the status of order #4815162342? It was due yesterday and I have not received a shipping notice yet. Thanks a lot for checking, it is a gift.',
      entities: [{ offset: 44, length: 11, type: 'hashtag' }],
      link_preview_options: { is_disabled: true },
    },
  }).replace('"update_id":0', '"update_id":__ID__');
}

/** The one outside party: answers getMe (id from the token), getWebhookInfo, setWebhook. */
async function startBotApi() {
  const webhooks = new Map();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const [, botPart, method] = req.url.split('/');
      const token = botPart.slice(3);
      const params = body ? JSON.parse(body) : {};
      let result = true;
      if (method === 'getMe')
        result = {
          id: Number(token.split(':')[0]),
          is_bot: true,
          first_name: 'Bench',
          username: `bench_${token.split(':')[0]}_bot`,
        };
      else if (method === 'getWebhookInfo')
        result = {
          url: webhooks.get(token) ?? '',
          has_custom_certificate: false,
          pending_update_count: 0,
          max_connections: 40,
        };
      else if (method === 'setWebhook') webhooks.set(token, params.url);
      else if (method === 'deleteWebhook') webhooks.delete(token);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true, result }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => server.close(r)),
  };
}

async function startRedis() {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { lazyConnect: true, retryStrategy: () => 100 });
  client.on('error', () => undefined); // until it has started
  for (let i = 0; i < 100; i++) {
    try {
      await client.connect();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    client,
    pid: child.pid,
    stop: async () => {
      client.disconnect();
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

const hasKcat = spawnSync('kcat', ['-V']).error === undefined;

/**
 * librdkafka's mock cluster (3 brokers), hosted by a kcat process (Debian's kcat): a new, empty
 * cluster for each run, gone when the process stops.
 */
async function startMockKafka() {
  const child = spawn(
    'kcat',
    ['-b', 'unused:9092', '-X', 'test.mock.num.brokers=3', '-C', '-t', '_mock_host', '-q'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let output = '';
  const bootstrap = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`kcat's mock cluster did not start:\n${output}`)),
      10_000,
    );
    child.stderr.on('data', (chunk) => {
      output += chunk;
      const list = /replaced with (\S+)/.exec(output)?.[1];
      if (list) {
        clearTimeout(timer);
        resolve(list);
      }
    });
    child.once('exit', () => reject(new Error(`kcat exited:\n${output}`)));
  });
  child.stderr.resume();
  return {
    bootstrap,
    pid: child.pid,
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/**
 * As verifyQueue, for the records on a Kafka topic. Every record appended counts (the partitions'
 * end offsets); doubles are looked for among the records the mock cluster still holds, read back
 * through a consumer group — it keeps the last ~5 MB of each partition and drops older records.
 */
async function verifyTopic(bootstrap, topic, answered200, sent) {
  const kafka = new Kafka({
    clientId: 'bench-check',
    brokers: bootstrap.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic).catch(() => []);
  await admin.disconnect();
  const total = offsets.reduce((sum, o) => sum + Number(o.high), 0);
  const held = offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
  const ids = new Set();
  let read = 0;
  if (held > 0) {
    const consumer = kafka.consumer({ groupId: 'bench-check', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, 120_000);
      void consumer.run({
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) ids.add(message.headers?.update_id?.toString());
          read += batch.messages.length;
          if (read >= held) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
  }
  const ok = ids.size === read && read === held && total >= answered200 && total <= sent;
  return { stored: total, unique: ids.size === read ? total : ids.size, ok };
}

/** CPU time (user + system) a process has used so far, in microseconds; 0 once it is gone. */
function cpuMicros(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/** Starts a server process and waits for its "Receiving" line. */
async function startServer(script, env) {
  // For profiling a run, e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, script], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      ENV_FILE: '/nonexistent/.env',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  const deadline = Date.now() + 60_000;
  while (!output.includes('Receiving')) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`${script} did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    pid: child.pid,
    /** Peak resident set size of the process so far, in MB (VmHWM). */
    peakRssMb() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return kb / 1024;
    },
    async stop() {
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      return code;
    },
  };
}

let nextId = 1;

const hasWrk =
  process.env.BENCH_GENERATOR !== 'autocannon' && spawnSync('wrk', ['--version']).error === undefined;

/**
 * Loads `port` for `duration` seconds, spreading requests over `targets` ({ path, secret }) with
 * unique update_ids. wrk (C, from Debian's `wrk` package) when installed — it leaves the CPU to
 * the server — else autocannon. Returns requests/s, p50/p99 in ms, the 200s counted, failures,
 * and the most requests that can have reached the server.
 */
async function load(port, targets, { duration, connections }) {
  return hasWrk
    ? loadWithWrk(port, targets, duration, connections)
    : loadWithAutocannon(port, targets, duration, connections);
}

async function loadWithWrk(port, targets, duration, connections) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  const targetsFile = join(dir, 'targets.txt');
  writeFileSync(targetsFile, targets.map((t) => `${t.path} ${t.secret}`).join('\n') + '\n');
  const base = nextId;
  nextId += 1_000_000_000;
  const child = spawn(
    'wrk',
    [
      '-t',
      '2',
      '-c',
      String(connections),
      '-d',
      `${duration}s`,
      '--timeout',
      '10s',
      '-s',
      join(ROOT, 'bench/load.lua'),
      `http://127.0.0.1:${port}`,
    ],
    {
      env: {
        ...process.env,
        BENCH_TEMPLATE: updateTemplate(),
        BENCH_TARGETS: targetsFile,
        BENCH_ID_BASE: String(base),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  await once(child, 'exit');
  const line = /BENCH_RESULT (\{.*\})/.exec(output);
  if (!line) throw new Error(`wrk printed no result:\n${output}`);
  const r = JSON.parse(line[1]);
  const failed = r.status_errors + r.socket_errors;
  return {
    rps: r.requests / (r.duration_us / 1e6),
    p50: r.p50_us / 1000,
    p99: r.p99_us / 1000,
    answered2xx: r.requests - r.status_errors,
    failed,
    sentMax: r.requests + connections,
  };
}

async function loadWithAutocannon(port, targets, duration, connections) {
  const template = updateTemplate();
  let i = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration,
    pipelining: 1,
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const target = targets[i++ % targets.length];
          return {
            ...req,
            path: target.path,
            headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': target.secret },
            body: template.replace('__ID__', String(nextId++)),
          };
        },
      },
    ],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    answered2xx: result['2xx'],
    failed: result.non2xx + result.errors + result.timeouts,
    sentMax: result.requests.sent,
  };
}

/**
 * Zero loss, zero doubles: every update answered 200 is on the queue, each update_id once. A run
 * ends with requests in flight whose answers the generator no longer counts, so the queue may hold
 * up to that many more than were answered — never more than were sent.
 */
async function verifyQueue(redis, key, answered200, sent) {
  const entries = await redis.lrange(key, 0, -1);
  const ids = new Set(entries.map((e) => JSON.parse(e).update_id));
  const ok = ids.size === entries.length && entries.length >= answered200 && entries.length <= sent;
  return { stored: entries.length, unique: ids.size, ok };
}

async function usedMemory(redis) {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
}

/**
 * Redis memory dedup holds per update, for `bots` bots sending `perBot` updates each (sequential
 * ids from a random start, interleaved): through the receiver's own Redis queue (its
 * claim-and-push script, from dist/, on a connection set up as the service sets it up), and in
 * the format before bitmaps — one `SET <queue>:dedup:<bot>:<id> 1 NX EX 86400` key per update,
 * what that script did. The queue itself is deleted before measuring.
 */
async function dedupMemory(url, { bots, perBot }) {
  const dist = (path) => import(pathToFileURL(join(ROOT, 'dist', path)).href);
  const { RedisQueuePublisher } = await dist('publisher/targets/redis/redis-queue.publisher.js');
  const { RedisState } = await dist('redis/redis-state.js');
  const { STORE_UPDATES_COMMAND } = await dist('redis/redis.module.js');
  const { loadConfig } = await dist('config/load-settings.js');
  const queue = 'dedup-bench';
  const config = loadConfig({
    ENV_FILE: '/nonexistent/.env',
    TELEGRAM_TOKEN: '600000:bench',
    TELEGRAM_SET_WEBHOOK: 'false',
    REDIS_URL: url,
    REDIS_QUEUE_NAME: queue,
  });
  const connection = new Redis(url, {
    enableAutoPipelining: true,
    autoPipeliningIgnoredCommands: [STORE_UPDATES_COMMAND],
  });
  const publisher = new RedisQueuePublisher(
    connection,
    new RedisState(connection, { mode: 'standalone', url }),
    config,
  );
  let seed = 42;
  const random = (n) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  const starts = Array.from({ length: bots }, () => random(2 ** 31 - perBot));
  const identities = starts.map((_, b) => ({ index: b + 1, id: 800000 + b, idText: String(800000 + b) }));
  const payload = Buffer.from('{}');
  try {
    await connection.flushall();
    const before = await usedMemory(connection);
    for (let i = 0; i < perBot; i += 50) {
      const pending = [];
      for (let j = i; j < Math.min(i + 50, perBot); j++)
        for (let b = 0; b < bots; b++) {
          const update = {
            bot: identities[b],
            updateId: starts[b] + j,
            type: 'message',
            raw: payload,
            payload,
          };
          pending.push(publisher.publish(update));
        }
      await Promise.all(pending);
    }
    await connection.del(queue);
    const bitmaps = (await usedMemory(connection)) - before;

    await connection.flushall();
    const legacyBefore = await usedMemory(connection);
    for (let i = 0; i < perBot; i += 50) {
      const pipeline = connection.pipeline();
      for (let j = i; j < Math.min(i + 50, perBot); j++)
        for (let b = 0; b < bots; b++)
          pipeline.set(`${queue}:dedup:${identities[b].idText}:${starts[b] + j}`, '1', 'EX', 86400, 'NX');
      await pipeline.exec();
    }
    const keys = (await usedMemory(connection)) - legacyBefore;
    await connection.flushall();
    return { updates: bots * perBot, bitmaps, keys };
  } finally {
    connection.disconnect();
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export async function runBench(options, print = console.log) {
  if (!existsSync(join(ROOT, 'dist/main.js'))) {
    print('Building (dist/main.js is missing)…');
    const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (build.status !== 0) throw new Error('build failed');
  }
  const redis = await startRedis();
  const api = await startBotApi();
  const dir = mkdtempSync(join(tmpdir(), 'bench-'));
  const botsFile = join(dir, 'bots.yaml');
  const many = Array.from({ length: options.manyBots }, (_, i) => ({
    token: `${700000 + i}:bench${i}`,
    endpoint: `b${i}`,
    secret: `s${i}`,
  }));
  writeFileSync(botsFile, JSON.stringify({ bots: many }));

  const receiverEnv = (port, extra) => ({
    TELEGRAM_API_URL: api.url,
    WEBHOOK_DOMAIN: 'bench.example.com',
    WEBHOOK_PORT: String(port),
    WEBHOOK_BIND: '127.0.0.1',
    WEBHOOK_LIMIT_SUBNETS: '127.0.0.0/8',
    REDIS_URL: redis.url,
    REDIS_QUEUE_NAME: 'q',
    TELEGRAM_DELETE_WEBHOOK: 'false',
    LOG_LEVEL: 'info',
    ...extra,
  });
  const subjects = [
    {
      key: 'floor',
      name: 'floor',
      start: (port) =>
        startServer(join(ROOT, 'bench/floor.mjs'), {
          REDIS_URL: redis.url,
          REDIS_QUEUE_NAME: 'q',
          WEBHOOK_SECRET: SECRET,
          WEBHOOK_PORT: String(port),
        }),
      targets: [{ path: '/hook', secret: SECRET }],
    },
    {
      key: 'receiver',
      name: 'receiver',
      start: (port) =>
        startServer(
          join(ROOT, 'dist/main.js'),
          receiverEnv(port, {
            TELEGRAM_TOKEN: '600000:bench',
            WEBHOOK_ENDPOINT: 'hook',
            WEBHOOK_SECRET: SECRET,
          }),
        ),
      targets: [{ path: '/hook', secret: SECRET }],
    },
    {
      key: 'many',
      name: `receiver ${options.manyBots} bots`,
      start: (port) => startServer(join(ROOT, 'dist/main.js'), receiverEnv(port, { BOTS_FILE: botsFile })),
      targets: many.map((b) => ({ path: `/${b.endpoint}`, secret: b.secret })),
    },
    {
      key: 'kafka',
      name: 'receiver → Kafka',
      // Kafka alone (no Redis: dedup in memory), on a mock cluster of its own for each run.
      kafka: true,
      start: (port, cluster) =>
        startServer(
          join(ROOT, 'dist/main.js'),
          receiverEnv(port, {
            REDIS_URL: '',
            KAFKA_BROKERS: cluster.bootstrap,
            TELEGRAM_TOKEN: '600001:bench',
            WEBHOOK_ENDPOINT: 'hook',
            WEBHOOK_SECRET: SECRET,
          }),
        ),
      verify: (cluster, answered, sent) => verifyTopic(cluster.bootstrap, 'telegram.600001', answered, sent),
      targets: [{ path: '/hook', secret: SECRET }],
    },
  ];
  if (!hasKcat && (!options.only || options.only.has('kafka'))) {
    print('(no kcat on PATH: the Kafka run is left out — apt-get install kcat)');
  }

  print(
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  );
  print(
    `Load: ${hasWrk ? 'wrk' : 'autocannon (install wrk: a generator in C leaves the CPU to the server)'}, ${options.connections} connections, ${options.duration} s per run, ${options.rounds} round(s), ~600-byte message updates\n`,
  );
  print(
    '| round | subject | req/s | p50 ms | p99 ms | peak RSS MB | CPU µs/req | broker µs/req | non-2xx | queue check |',
  );
  print('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const rows = [];
  let zeroLoss = true;
  try {
    for (let round = 1; round <= options.rounds; round++) {
      // Alternate the order so neither side always runs on a warmer machine.
      const chosen = subjects.filter(
        (s) => (!options.only || options.only.has(s.key)) && (!s.kafka || hasKcat),
      );
      const order = round % 2 ? chosen : [...chosen].reverse();
      for (const subject of order) {
        await redis.client.flushall();
        const cluster = subject.kafka ? await startMockKafka() : undefined;
        // Redis, or the mock cluster for the Kafka run: the broker whose CPU is counted.
        const brokerPid = cluster?.pid ?? redis.pid;
        const port = await freePort();
        const server = await subject.start(port, cluster);
        // Warm-up (JIT, connections), then the measured run; both are checked against the queue.
        const warm = await load(port, subject.targets, {
          duration: Math.min(2, options.duration),
          connections: options.connections,
        });
        const cpuBefore = [cpuMicros(server.pid), cpuMicros(brokerPid)];
        const run = await load(port, subject.targets, options);
        const cpuAfter = [cpuMicros(server.pid), cpuMicros(brokerPid)];
        const requests = run.rps * options.duration;
        const peak = server.peakRssMb();
        await server.stop();
        const answered = warm.answered2xx + run.answered2xx;
        const sent = warm.sentMax + run.sentMax;
        const check = cluster
          ? await subject.verify(cluster, answered, sent).finally(() => cluster.stop())
          : await verifyQueue(redis.client, 'q', answered, sent);
        zeroLoss &&= check.ok;
        const row = {
          round,
          subject: subject.name,
          rps: run.rps,
          p50: run.p50,
          p99: run.p99,
          rss: peak,
          cpu: (cpuAfter[0] - cpuBefore[0]) / requests,
          redisCpu: (cpuAfter[1] - cpuBefore[1]) / requests,
          non2xx: run.failed,
          check: check.ok
            ? `ok (${check.stored})`
            : `FAIL: ${check.stored} stored, ${check.unique} unique, ${answered} answered 200`,
        };
        rows.push(row);
        print(
          `| ${row.round} | ${row.subject} | ${Math.round(row.rps)} | ${row.p50.toFixed(1)} | ${row.p99.toFixed(1)} | ${row.rss.toFixed(0)} | ${row.cpu.toFixed(1)} | ${row.redisCpu.toFixed(1)} | ${row.non2xx} | ${row.check} |`,
        );
      }
    }
  } finally {
    await redis.stop();
    await api.close();
  }

  let dedup;
  if (!options.only || options.only.has('dedup')) {
    const redisForDedup = await startRedis();
    try {
      dedup = await dedupMemory(
        redisForDedup.url,
        options.smoke ? { bots: 100, perBot: 100 } : { bots: 100, perBot: 10_000 },
      );
    } finally {
      await redisForDedup.stop();
    }
  }

  const med = (name, key) => median(rows.filter((r) => r.subject === name).map((r) => r[key]));
  // Ratios are taken within each round — the subjects ran minutes apart at most — and then the
  // median over rounds: on a shared machine whose speed drifts, that is steadier than a ratio of
  // medians.
  const ratio = (a, b, key) =>
    median(
      [...new Set(rows.map((r) => r.round))].map((round) => {
        const of = (name) => rows.find((r) => r.round === round && r.subject === name)?.[key] ?? NaN;
        return of(a) / of(b);
      }),
    );
  const manyName = subjects[2].name;
  const rss = Math.max(...rows.filter((r) => r.subject !== 'floor').map((r) => r.rss));
  const rpsRatio = ratio('receiver', 'floor', 'rps');
  const p99Ratio = ratio('receiver', 'floor', 'p99');
  const manyRatio = ratio(manyName, 'receiver', 'rps');
  const targets = [
    ['receiver/floor requests/s', rpsRatio, '≥ 1.0', rpsRatio >= 1.0],
    ['receiver/floor p99 latency', p99Ratio, '≤ 1.2', p99Ratio <= 1.2],
    ['receiver peak RSS (MB)', rss, '≤ 150', rss <= 150],
    [`${options.manyBots} bots / 1 bot requests/s`, manyRatio, '≥ 0.95', manyRatio >= 0.95],
    ['zero lost or doubled updates', zeroLoss ? 1 : 0, 'every run', zeroLoss],
  ];
  print('\nMedians:');
  print(`| subject | req/s | p99 ms | CPU µs/req | broker µs/req |\n| --- | --- | --- | --- | --- |`);
  for (const s of subjects.filter((s) => rows.some((r) => r.subject === s.name)))
    print(
      `| ${s.name} | ${Math.round(med(s.name, 'rps'))} | ${med(s.name, 'p99').toFixed(1)} | ${med(s.name, 'cpu').toFixed(1)} | ${med(s.name, 'redisCpu').toFixed(1)} |`,
    );
  print('\nTargets (ratios: median over rounds of the ratio within each round):');
  print('| target | measured | goal | met |\n| --- | --- | --- | --- |');
  for (const [name, value, goal, met] of targets)
    print(`| ${name} | ${Number(value).toFixed(2)} | ${goal} | ${met ? 'yes' : 'NO'} |`);
  if (dedup) {
    const perUpdate = (bytes) => bytes / dedup.updates;
    // 100 updates/s for DEDUP_TTL_SECONDS (a day) at this density.
    const day = (bytes) => `${((perUpdate(bytes) * 100 * 86_400) / 2 ** 20).toFixed(1)} MiB`;
    print(
      `\nDedup memory in Redis (used_memory; ${dedup.updates.toLocaleString('en')} updates, 100 bots, sequential ids interleaved):`,
    );
    print('| format | bytes per update | 100 updates/s for a day |\n| --- | --- | --- |');
    print(`| bitmaps (now) | ${perUpdate(dedup.bitmaps).toFixed(2)} | ${day(dedup.bitmaps)} |`);
    print(`| one key per update (before) | ${perUpdate(dedup.keys).toFixed(1)} | ${day(dedup.keys)} |`);
  }
  return { rows, targets, zeroLoss, dedup };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const options = parseArgs(process.argv.slice(2));
  runBench(options).then(
    ({ zeroLoss }) => process.exit(zeroLoss ? 0 : 1),
    (error) => {
      console.error(error);
      process.exit(2);
    },
  );
}
