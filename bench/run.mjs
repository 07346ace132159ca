#!/usr/bin/env node
// @ts-check
// `npm run bench`: the built receiver (production settings, every default feature on) against a bare
// hand-written floor handler and against what a team would write instead — grammY's and Telegraf's
// webhook callbacks pushing each update to Redis — loaded in turn by the same generator (wrk, or
// autocannon where wrk is not installed) for alternating rounds, each run on a private Redis of its
// own; the receiver with 1,000 bots against the 1-bot run; then the receiver at 64, 1,000 and 4,000
// concurrent keep-alive connections (what hundreds of bots, each up to max_connections, open), with
// the floor at the first and the last count beside it (how much of the drop the machine's).
// Prints per-round rows (CPU per update first: it holds on a shared machine where requests/s
// drifts), medians and the targets; checks that the queue holds exactly one entry per 200
// answered, and exits non-zero when it does not (zero loss, zero doubles). A missed target is
// printed, not an error.
//
// Then what dedup holds in Redis per update: the receiver's bitmaps against one key per update.
//
//   node bench/run.mjs [--duration 10] [--rounds 5] [--connections 64] [--bots 1000] [--smoke]
//                      [--scale 64,1000,4000] [--only floor,receiver,many,kafka,grammy,telegraf,scale,dedup]
//   BENCH_GENERATOR=autocannon forces autocannon even where wrk is installed.
//   BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" starts the servers with those node options, and
//   BENCH_SERVER_OUT=FILE appends what they print to FILE (profiling a run).
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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

/**
 * @typedef {object} Options
 * @property {number} duration seconds per measured run
 * @property {number} rounds
 * @property {number} connections for every subject
 * @property {boolean} smoke
 * @property {number} manyBots
 * @property {number[]} scale connection counts of the connection-scale runs; the first is the base
 * @property {Set<string> | undefined} only subject keys to run
 */

const SUBJECT_KEYS = ['floor', 'receiver', 'many', 'kafka', 'grammy', 'telegraf', 'scale', 'dedup'];

/** @param {string[]} argv @returns {Options} */
function parseArgs(argv) {
  /** @type {Options} */
  const options = {
    duration: 10,
    rounds: 5,
    connections: 64,
    smoke: false,
    manyBots: 1000,
    scale: [64, 1000, 4000],
    only: undefined,
  };
  const value = (/** @type {number} */ i) => {
    const next = argv[i];
    if (next === undefined) throw new Error(`${argv[i - 1]} needs a value`);
    return next;
  };
  const counts = (/** @type {string} */ text) => {
    const list = text.split(',').map(Number);
    if (list.some((n) => !Number.isInteger(n) || n < 1))
      throw new Error(`--scale ${text}: not a list of counts`);
    return list;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--smoke') options.smoke = true;
    else if (arg === '--duration') options.duration = Number(value(++i));
    else if (arg === '--rounds') options.rounds = Number(value(++i));
    else if (arg === '--connections') options.connections = Number(value(++i));
    else if (arg === '--bots') options.manyBots = Number(value(++i));
    else if (arg === '--scale') options.scale = counts(value(++i));
    else if (arg === '--only') {
      const keys = value(++i).split(',');
      const unknown = keys.filter((k) => !SUBJECT_KEYS.includes(k));
      if (unknown.length)
        throw new Error(`--only: unknown ${unknown.join(', ')} (one of ${SUBJECT_KEYS.join(', ')})`);
      options.only = new Set(keys);
    } else throw new Error(`unknown argument ${arg}`);
  }
  if (options.smoke)
    Object.assign(options, { duration: 1, rounds: 1, connections: 16, manyBots: 50, scale: [4, 16, 64] });
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
      const [, botPart = '', method] = (req.url ?? '').split('/');
      const token = botPart.slice(3);
      /** @type {{ url?: string }} */
      const params = body ? JSON.parse(body) : {};
      /** @type {unknown} */
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
    url: `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}`,
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
    pid: child.pid ?? 0,
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
    pid: child.pid ?? 0,
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
 * @param {string} bootstrap @param {string} topic @param {number} answered200 @param {number} sent
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
    await /** @type {Promise<void>} */ (
      new Promise((resolve) => {
        const timer = setTimeout(resolve, 120_000);
        void consumer.run({
          eachBatch: ({ batch }) => {
            for (const message of batch.messages) ids.add(message.headers?.update_id?.toString());
            read += batch.messages.length;
            if (read >= held) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        });
      })
    );
    await consumer.disconnect();
  }
  const ok = ids.size === read && read === held && total >= answered200 && total <= sent;
  return { stored: total, unique: ids.size === read ? total : ids.size, ok };
}

/**
 * CPU time (user + system) a process has used so far, in microseconds; 0 once it is gone.
 * @param {number} pid
 */
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

/**
 * Starts a server process and waits for its "Receiving" line.
 * @param {string} script @param {Record<string, string>} env
 */
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
  // BENCH_SERVER_OUT=FILE: what the servers print (under BENCH_NODE_ARGS=--trace-gc-nvp, say) is
  // appended there too.
  const out = process.env.BENCH_SERVER_OUT;
  if (out) {
    // Two sources into one file: neither ends it (the other may still write); it closes with the child.
    const copy = createWriteStream(out, { flags: 'a' });
    child.stdout.pipe(copy, { end: false });
    child.stderr.pipe(copy, { end: false });
    child.once('close', () => copy.end());
  }
  const deadline = Date.now() + 60_000;
  while (!output.includes('Receiving')) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`${script} did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    pid: child.pid ?? 0,
    /** Peak resident set size of the process so far, in MB (VmHWM). */
    peakRssMb() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return kb / 1024;
    },
    async stop() {
      child.kill('SIGTERM');
      const [code] = /** @type {[number | null]} */ (await once(child, 'exit'));
      return code;
    },
  };
}

let nextId = 1;

const hasWrk =
  process.env.BENCH_GENERATOR !== 'autocannon' && spawnSync('wrk', ['--version']).error === undefined;

/**
 * The open-file limits of this process's children: [soft, hard]. Node raises its own soft limit to
 * the hard one at start, and its children (the servers, wrk) inherit that; wrk, which raises
 * nothing itself, is still started with `ulimit -n` raised should it need more than the soft limit
 * (the bench started by something that lowered it again).
 */
function fileLimits() {
  const read = (/** @type {string} */ flag) =>
    Number(
      spawnSync('sh', ['-c', `ulimit ${flag}`])
        .stdout?.toString()
        .trim()
        .replace('unlimited', 'Infinity'),
    );
  return /** @type {const} */ ([read('-Sn'), read('-Hn')]);
}
const [SOFT_FILES, HARD_FILES] = fileLimits();
/** Descriptors a process needs for `connections` sockets, beside its own files and Redis. */
const filesNeeded = (/** @type {number} */ connections) => connections + 128;

/**
 * @typedef {{ path: string, secret: string }} Target
 * @typedef {object} LoadResult
 * @property {number} rps
 * @property {number} p50 ms
 * @property {number} p99 ms
 * @property {number} answered2xx
 * @property {number} non2xx answers other than 2xx
 * @property {number} socketErrors connect, read, write errors and timeouts
 * @property {number} sentMax the most requests that can have reached the server
 */

/**
 * Loads `port` for `duration` seconds, spreading requests over `targets` with unique update_ids.
 * wrk (C, from Debian's `wrk` package) when installed — it leaves the CPU to the server — else
 * autocannon.
 * @param {number} port
 * @param {Target[]} targets
 * @param {{ duration: number, connections: number }} load
 * @returns {Promise<LoadResult>}
 */
async function load(port, targets, { duration, connections }) {
  return hasWrk
    ? loadWithWrk(port, targets, duration, connections)
    : loadWithAutocannon(port, targets, duration, connections);
}

/** @param {number} port @param {Target[]} targets @param {number} duration @param {number} connections */
async function loadWithWrk(port, targets, duration, connections) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  const targetsFile = join(dir, 'targets.txt');
  writeFileSync(targetsFile, targets.map((t) => `${t.path} ${t.secret}`).join('\n') + '\n');
  const base = nextId;
  nextId += 1_000_000_000;
  const args = [
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
  ];
  // Thousands of connections need more descriptors than a shell's usual soft limit (1024).
  const needed = filesNeeded(connections);
  const [command, argv] =
    needed > SOFT_FILES
      ? ['sh', ['-c', `ulimit -n ${needed} && exec wrk "$@"`, 'wrk', ...args]]
      : ['wrk', args];
  const child = spawn(command, argv, {
    env: {
      ...process.env,
      BENCH_TEMPLATE: updateTemplate(),
      BENCH_TARGETS: targetsFile,
      BENCH_ID_BASE: String(base),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  await once(child, 'exit');
  const line = /BENCH_RESULT (\{.*\})/.exec(output)?.[1];
  if (!line) throw new Error(`wrk printed no result:\n${output}`);
  /** @type {Record<string, number>} */
  const r = JSON.parse(line);
  const num = (/** @type {string} */ key) => r[key] ?? NaN;
  return {
    rps: num('requests') / (num('duration_us') / 1e6),
    p50: num('p50_us') / 1000,
    p99: num('p99_us') / 1000,
    answered2xx: num('requests') - num('status_errors'),
    non2xx: num('status_errors'),
    socketErrors: num('socket_errors'),
    sentMax: num('requests') + connections,
  };
}

/**
 * @param {number} port @param {Target[]} targets @param {number} duration @param {number} connections
 * @returns {Promise<LoadResult>}
 */
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
          const target = /** @type {Target} */ (targets[i++ % targets.length]);
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
    non2xx: result.non2xx,
    socketErrors: result.errors + result.timeouts,
    sentMax: result.requests.sent,
  };
}

/**
 * Zero loss, zero doubles: every update answered 200 is on the queue, each update_id once. A run
 * ends with requests in flight whose answers the generator no longer counts, so the queue may hold
 * up to that many more than were answered — never more than were sent.
 * @param {Redis} redis @param {string} key @param {number} answered200 @param {number} sent
 * @returns {Promise<Check>}
 */
async function verifyQueue(redis, key, answered200, sent) {
  const entries = await redis.lrange(key, 0, -1);
  const ids = new Set(entries.map((e) => /** @type {{ update_id: number }} */ (JSON.parse(e)).update_id));
  const ok = ids.size === entries.length && entries.length >= answered200 && entries.length <= sent;
  return { stored: entries.length, unique: ids.size, ok };
}

/** @param {Redis} redis */
async function usedMemory(redis) {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
}

/**
 * Redis memory dedup holds per update, for `bots` bots sending `perBot` updates each (sequential
 * ids from a random start, interleaved): through the receiver's own Redis queue (its
 * claim-and-push script, from dist/, on a connection set up as the service sets it up), and in
 * the format before bitmaps — one `SET <queue>:dedup:<bot>:<id> 1 NX EX 86400` key per update,
 * what that script did. The queue itself is deleted before measuring.
 * @param {string} url @param {{ bots: number, perBot: number }} size
 */
async function dedupMemory(url, { bots, perBot }) {
  /**
   * What this takes from the service built from src/ (dist/, which the bench's type-check does
   * not see); each module is asked for its own export.
   * @typedef {object} Dist
   * @property {new (connection: Redis, state: unknown, config: unknown) => { publish(update: object): Promise<unknown> }} RedisQueuePublisher
   * @property {new (connection: Redis, mode: { mode: 'standalone', url: string }) => unknown} RedisState
   * @property {string} STORE_UPDATES_COMMAND
   * @property {(env: Record<string, string>) => unknown} loadConfig
   */
  const dist = async (/** @type {string} */ path) => {
    /** @type {Dist} */
    const module = await import(pathToFileURL(join(ROOT, 'dist', path)).href);
    return module;
  };
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
  const random = (/** @type {number} */ n) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  const starts = Array.from({ length: bots }, () => random(2 ** 31 - perBot));
  const identities = starts.map((start, b) => ({
    index: b + 1,
    id: 800000 + b,
    idText: String(800000 + b),
    start,
  }));
  const payload = Buffer.from('{}');
  try {
    await connection.flushall();
    const before = await usedMemory(connection);
    for (let i = 0; i < perBot; i += 50) {
      const pending = [];
      for (let j = i; j < Math.min(i + 50, perBot); j++)
        for (const { start, ...bot } of identities) {
          const update = {
            bot,
            updateId: start + j,
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
        for (const { idText, start } of identities)
          pipeline.set(`${queue}:dedup:${idText}:${start + j}`, '1', 'EX', 86400, 'NX');
      await pipeline.exec();
    }
    const keys = (await usedMemory(connection)) - legacyBefore;
    await connection.flushall();
    return { updates: bots * perBot, bitmaps, keys };
  } finally {
    connection.disconnect();
  }
}

/** @param {number[]} values */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const at = (/** @type {number} */ i) => sorted[i] ?? NaN;
  return sorted.length % 2 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
}

/** @returns {string} the 1-, 5- and 15-minute load averages */
const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/**
 * @typedef {Awaited<ReturnType<typeof startServer>>} Server
 * @typedef {object} Subject
 * @property {string} key the name --only takes
 * @property {string} name
 * @property {boolean} [kafka] runs on a mock Kafka cluster instead of a Redis of its own
 * @property {(port: number, broker: string) => Promise<Server>} start broker: Redis URL or Kafka bootstrap
 * @property {Target[]} targets
 * @property {(bootstrap: string, answered: number, sent: number) => Promise<Check>} [verify]
 * @typedef {{ stored: number, unique: number, ok: boolean }} Check
 * @typedef {object} Row
 * @property {number} round
 * @property {string} subject
 * @property {number} connections
 * @property {number} rps
 * @property {number} p50
 * @property {number} p99
 * @property {number} rss peak RSS, MB
 * @property {number} cpu server CPU µs per update
 * @property {number} brokerCpu broker CPU µs per update
 * @property {number} non2xx
 * @property {number} socketErrors
 * @property {boolean} ok
 * @property {string} check
 * @typedef {[name: string, measured: number, goal: string, met: boolean, digits?: number]} TargetRow
 */

/**
 * @param {Options} options
 * @param {(line: string) => void} print
 */
export async function runBench(options, print = console.log) {
  if (!existsSync(join(ROOT, 'dist/main.js'))) {
    print('Building (dist/main.js is missing)…');
    const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (build.status !== 0) throw new Error('build failed');
  }
  const selected = (/** @type {string} */ key) => !options.only || options.only.has(key);
  const api = await startBotApi();
  const dir = mkdtempSync(join(tmpdir(), 'bench-'));
  const botsFile = join(dir, 'bots.yaml');
  const many = Array.from({ length: options.manyBots }, (_, i) => ({
    token: `${700000 + i}:bench${i}`,
    endpoint: `b${i}`,
    secret: `s${i}`,
  }));
  writeFileSync(botsFile, JSON.stringify({ bots: many }));

  const receiverEnv = (
    /** @type {number} */ port,
    /** @type {string} */ redisUrl,
    /** @type {Record<string, string>} */ extra,
  ) => ({
    TELEGRAM_API_URL: api.url,
    WEBHOOK_DOMAIN: 'bench.example.com',
    WEBHOOK_PORT: String(port),
    WEBHOOK_BIND: '127.0.0.1',
    WEBHOOK_LIMIT_SUBNETS: '127.0.0.0/8',
    REDIS_URL: redisUrl,
    REDIS_QUEUE_NAME: 'q',
    TELEGRAM_DELETE_WEBHOOK: 'false',
    LOG_LEVEL: 'info',
    ...extra,
  });
  /** A peer server (bench/<file>): a Redis of its own, the stub Bot API, one bot. */
  const peer = (/** @type {string} */ file, /** @type {string} */ token) => ({
    start: (/** @type {number} */ port, /** @type {string} */ redisUrl) =>
      startServer(join(ROOT, 'bench', file), {
        REDIS_URL: redisUrl,
        REDIS_QUEUE_NAME: 'q',
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_PORT: String(port),
        TELEGRAM_TOKEN: token,
        TELEGRAM_API_URL: api.url,
      }),
    targets: [{ path: '/hook', secret: SECRET }],
  });
  /** @type {Subject} */
  const receiver = {
    key: 'receiver',
    name: 'receiver',
    start: (port, redisUrl) =>
      startServer(
        join(ROOT, 'dist/main.js'),
        receiverEnv(port, redisUrl, {
          TELEGRAM_TOKEN: '600000:bench',
          WEBHOOK_ENDPOINT: 'hook',
          WEBHOOK_SECRET: SECRET,
        }),
      ),
    targets: [{ path: '/hook', secret: SECRET }],
  };
  /** @type {Subject} */
  const floor = {
    key: 'floor',
    name: 'floor',
    start: (port, redisUrl) =>
      startServer(join(ROOT, 'bench/floor.mjs'), {
        REDIS_URL: redisUrl,
        REDIS_QUEUE_NAME: 'q',
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_PORT: String(port),
      }),
    targets: [{ path: '/hook', secret: SECRET }],
  };
  /** @type {Subject[]} */
  const subjects = [
    floor,
    receiver,
    // The peers next to the receiver, so that each ratio compares runs a minute apart at most.
    { key: 'grammy', name: 'grammY', ...peer('grammy.mjs', '600002:bench') },
    { key: 'telegraf', name: 'Telegraf', ...peer('telegraf.mjs', '600003:bench') },
    {
      key: 'many',
      name: `receiver ${options.manyBots} bots`,
      start: (port, redisUrl) =>
        startServer(join(ROOT, 'dist/main.js'), receiverEnv(port, redisUrl, { BOTS_FILE: botsFile })),
      targets: many.map((b) => ({ path: `/${b.endpoint}`, secret: b.secret })),
    },
    {
      key: 'kafka',
      name: 'receiver → Kafka',
      // Kafka alone (no Redis: dedup in memory), on a mock cluster of its own for each run.
      kafka: true,
      start: (port, bootstrap) =>
        startServer(
          join(ROOT, 'dist/main.js'),
          receiverEnv(port, '', {
            KAFKA_BROKERS: bootstrap,
            TELEGRAM_TOKEN: '600001:bench',
            WEBHOOK_ENDPOINT: 'hook',
            WEBHOOK_SECRET: SECRET,
          }),
        ),
      verify: (bootstrap, answered, sent) => verifyTopic(bootstrap, 'telegram.600001', answered, sent),
      targets: [{ path: '/hook', secret: SECRET }],
    },
  ];
  if (!hasKcat && selected('kafka')) {
    print('(no kcat on PATH: the Kafka run is left out — apt-get install kcat)');
  }
  const scaleCounts = options.scale.filter((count) => {
    if (filesNeeded(count) <= HARD_FILES) return true;
    print(
      `(${count} connections need ~${filesNeeded(count)} open files each for wrk and the receiver; the hard limit here is ${HARD_FILES}: left out — raise it as root, e.g. \`ulimit -Hn 65536\` in the shell that runs the bench, or LimitNOFILE= for a service)`,
    );
    return false;
  });
  // The floor at the first and the last count only: enough to tell the machine's share of the drop.
  const floorCounts = [...new Set([scaleCounts[0], scaleCounts[scaleCounts.length - 1]])].filter(
    (count) => count !== undefined,
  );

  print(
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ${new Date().toISOString()}`,
  );
  print(`Load average (/proc/loadavg) before: ${loadAverage()}`);
  print(
    `Load: ${hasWrk ? 'wrk' : 'autocannon (install wrk: a generator in C leaves the CPU to the server)'}, ${options.connections} connections, ${options.duration} s per run after a warm-up, ${options.rounds} round(s), ~600-byte message updates; each run on a new private Redis`,
  );
  print(
    `Open files: soft limit ${SOFT_FILES}, hard ${HARD_FILES} (node raises its soft limit to the hard one at start, and the servers and wrk inherit that; wrk is started with \`ulimit -n\` raised should it need more)\n`,
  );

  /** @type {Row[]} */
  const rows = [];
  /** @type {Row[]} */
  const scaleRows = [];
  const cell = (/** @type {number} */ n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–');

  /**
   * One measured run: a new broker (Redis, or a mock Kafka cluster), the server, a warm-up (JIT,
   * connections) and the measured load at `connections`; both loads are checked against the queue.
   * @param {Subject} subject @param {number} round @param {number} connections @returns {Promise<Row>}
   */
  async function measure(subject, round, connections) {
    const redis = subject.kafka ? undefined : await startRedis();
    const cluster = subject.kafka ? await startMockKafka() : undefined;
    try {
      // Redis, or the mock cluster for the Kafka run: the broker whose CPU is counted.
      const brokerPid = cluster?.pid ?? redis?.pid ?? 0;
      const port = await freePort();
      const server = await subject.start(port, cluster?.bootstrap ?? redis?.url ?? '');
      /** @type {LoadResult} */
      let warm;
      /** @type {LoadResult} */
      let run;
      let cpu = [0, 0];
      let rss = 0;
      try {
        warm = await load(port, subject.targets, { duration: Math.min(2, options.duration), connections });
        const before = [cpuMicros(server.pid), cpuMicros(brokerPid)];
        run = await load(port, subject.targets, { duration: options.duration, connections });
        cpu = [cpuMicros(server.pid) - (before[0] ?? 0), cpuMicros(brokerPid) - (before[1] ?? 0)];
        rss = server.peakRssMb();
      } finally {
        await server.stop();
      }
      const answered = warm.answered2xx + run.answered2xx;
      const sent = warm.sentMax + run.sentMax;
      const check =
        cluster && subject.verify
          ? await subject.verify(cluster.bootstrap, answered, sent)
          : await verifyQueue(/** @type {Redis} */ (redis?.client), 'q', answered, sent);
      const requests = run.answered2xx + run.non2xx;
      return {
        round,
        subject: subject.name,
        connections,
        rps: run.rps,
        p50: run.p50,
        p99: run.p99,
        rss,
        cpu: (cpu[0] ?? NaN) / requests,
        brokerCpu: (cpu[1] ?? NaN) / requests,
        non2xx: run.non2xx,
        socketErrors: run.socketErrors,
        ok: check.ok,
        check: check.ok
          ? `ok (${check.stored})`
          : `FAIL: ${check.stored} stored, ${check.unique} unique, ${answered} answered 200`,
      };
    } finally {
      await redis?.stop();
      await cluster?.stop();
    }
  }

  try {
    const chosen = subjects.filter((s) => selected(s.key) && (!s.kafka || hasKcat));
    if (chosen.length) {
      print(
        '| round | subject | CPU µs/update | broker µs/update | req/s | p50 ms | p99 ms | peak RSS MB | non-2xx | socket errors | queue check |',
      );
      print('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    }
    for (let round = 1; chosen.length && round <= options.rounds; round++) {
      // Alternate the order so neither side always runs on a warmer machine.
      for (const subject of round % 2 ? chosen : [...chosen].reverse()) {
        const row = await measure(subject, round, options.connections);
        rows.push(row);
        print(
          `| ${row.round} | ${row.subject} | ${cell(row.cpu)} | ${cell(row.brokerCpu)} | ${Math.round(row.rps)} | ${cell(row.p50)} | ${cell(row.p99)} | ${cell(row.rss, 0)} | ${row.non2xx} | ${row.socketErrors} | ${row.check} |`,
        );
      }
    }
    if (selected('scale') && scaleCounts.length) {
      print(
        `\nConnection scale: the receiver at ${scaleCounts.join(', ')} concurrent keep-alive connections, and the floor at ${floorCounts.join(' and ')} beside it (what the same machine and generator allow a bare handler), a new process and Redis for each run:`,
      );
      print(
        '| round | subject | connections | req/s | p50 ms | p99 ms | peak RSS MB | CPU µs/update | Redis µs/update | non-2xx | socket errors | queue check |',
      );
      print('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
      const runs = scaleCounts.flatMap((count) =>
        (floorCounts.includes(count) ? [receiver, floor] : [receiver]).map(
          (subject) => /** @type {[Subject, number]} */ ([subject, count]),
        ),
      );
      for (let round = 1; round <= options.rounds; round++) {
        for (const [subject, count] of round % 2 ? runs : [...runs].reverse()) {
          const row = await measure(subject, round, count);
          scaleRows.push(row);
          print(
            `| ${row.round} | ${row.subject} | ${count} | ${Math.round(row.rps)} | ${cell(row.p50)} | ${cell(row.p99)} | ${cell(row.rss, 0)} | ${cell(row.cpu)} | ${cell(row.brokerCpu)} | ${row.non2xx} | ${row.socketErrors} | ${row.check} |`,
          );
        }
      }
    }
  } finally {
    await api.close();
  }

  /** @type {{ updates: number, bitmaps: number, keys: number } | undefined} */
  let dedup;
  if (selected('dedup')) {
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

  const zeroLoss = [...rows, ...scaleRows].every((r) => r.ok);
  const of = (
    /** @type {Row[]} */ list,
    /** @type {(r: Row) => boolean} */ which,
    /** @type {keyof Row} */ key,
  ) => list.filter(which).map((r) => Number(r[key]));
  const named = (/** @type {string} */ name) => (/** @type {Row} */ r) => r.subject === name;
  const med = (/** @type {string} */ name, /** @type {keyof Row} */ key) =>
    median(of(rows, named(name), key));
  // Ratios are taken within each round — the subjects ran minutes apart at most — then the median
  // over rounds (or the worst round, where a target says "every round"): on a shared machine whose
  // speed drifts, that is steadier than a ratio of medians.
  const roundRatios = (
    /** @type {Row[]} */ list,
    /** @type {(r: Row) => boolean} */ a,
    /** @type {(r: Row) => boolean} */ b,
    /** @type {keyof Row} */ key,
  ) =>
    [...new Set(list.map((r) => r.round))]
      .map((round) => {
        const value = (/** @type {(r: Row) => boolean} */ which) =>
          Number(list.find((r) => r.round === round && which(r))?.[key] ?? NaN);
        return value(a) / value(b);
      })
      .filter((x) => !Number.isNaN(x));
  const ratio = (/** @type {string} */ a, /** @type {string} */ b, /** @type {keyof Row} */ key) =>
    median(roundRatios(rows, named(a), named(b), key));
  const worst = (
    /** @type {string} */ a,
    /** @type {string} */ b,
    /** @type {keyof Row} */ key,
    /** @type {'min' | 'max'} */ side,
  ) => {
    const list = roundRatios(rows, named(a), named(b), key);
    return list.length ? Math[side](...list) : NaN;
  };
  const manyName = `receiver ${options.manyBots} bots`;
  const receiverNames = new Set(['receiver', manyName, 'receiver → Kafka']);
  const rssValues = of(rows, (r) => receiverNames.has(r.subject), 'rss');
  const rss = rssValues.length ? Math.max(...rssValues) : NaN;
  // The counts asked for: one left out (too few open files) is "not run", not replaced by another.
  const base = options.scale[0] ?? NaN;
  const top = options.scale[options.scale.length - 1] ?? NaN;
  const at =
    (/** @type {number} */ count, subject = receiver.name) =>
    (/** @type {Row} */ r) =>
      r.connections === count && r.subject === subject;
  const topRows = scaleRows.filter(at(top));
  const sum = (/** @type {number[]} */ xs) => (xs.length ? xs.reduce((x, y) => x + y, 0) : NaN);
  const maxOf = (/** @type {number[]} */ xs) => (xs.length ? Math.max(...xs) : NaN);
  const scaleRatio = median(roundRatios(scaleRows, at(top), at(base), 'rps'));
  const topRss = maxOf(of(topRows, () => true, 'rss'));
  const topNon2xx = sum(of(topRows, () => true, 'non2xx'));
  const topLoss = topRows.length ? (topRows.every((r) => r.ok) ? 0 : 1) : NaN;
  const peers = [
    ['grammY', 'grammY'],
    ['Telegraf', 'Telegraf'],
  ];
  /** @type {TargetRow[]} */
  const targets = [
    [
      'receiver/floor requests/s',
      ratio('receiver', 'floor', 'rps'),
      '≥ 1.0',
      ratio('receiver', 'floor', 'rps') >= 1.0,
    ],
    [
      'receiver/floor p99 latency',
      ratio('receiver', 'floor', 'p99'),
      '≤ 1.2',
      ratio('receiver', 'floor', 'p99') <= 1.2,
    ],
    [
      'receiver/floor CPU µs per update',
      ratio('receiver', 'floor', 'cpu'),
      '≤ 1.0',
      ratio('receiver', 'floor', 'cpu') <= 1.0,
    ],
    ['receiver peak RSS (MB)', rss, '≤ 150', rss <= 150],
    [
      `${options.manyBots} bots / 1 bot requests/s`,
      ratio(manyName, 'receiver', 'rps'),
      '≥ 0.95',
      ratio(manyName, 'receiver', 'rps') >= 0.95,
    ],
    ...peers.flatMap(([label, name]) => {
      const rps = worst('receiver', String(name), 'rps', 'min');
      const cpu = worst('receiver', String(name), 'cpu', 'max');
      return /** @type {TargetRow[]} */ ([
        [`receiver/${label} requests/s, worst round`, rps, '≥ 1.5', rps >= 1.5],
        [`receiver/${label} CPU µs per update, worst round`, cpu, '≤ 0.6', cpu <= 0.6],
      ]);
    }),
    [`${top} / ${base} connections requests/s`, scaleRatio, '≥ 0.85', scaleRatio >= 0.85],
    [`peak RSS at ${top} connections (MB)`, topRss, '≤ 200', topRss <= 200],
    [`non-2xx at ${top} connections`, topNon2xx, '0', topNon2xx === 0, 0],
    [`lost or doubled at ${top} connections`, topLoss, 'none', topLoss === 0, 0],
    ['zero lost or doubled updates', zeroLoss ? 1 : 0, 'every run', zeroLoss],
  ];
  print('\nMedians:');
  print(`| subject | CPU µs/update | broker µs/update | req/s | p99 ms |\n| --- | --- | --- | --- | --- |`);
  for (const s of subjects.filter((s) => rows.some(named(s.name))))
    print(
      `| ${s.name} | ${cell(med(s.name, 'cpu'))} | ${cell(med(s.name, 'brokerCpu'))} | ${Math.round(med(s.name, 'rps'))} | ${cell(med(s.name, 'p99'))} |`,
    );
  if (scaleRows.length) {
    print(
      `\nConnection scale, medians (errors summed over rounds; "vs ${base}" is each subject against itself at ${base}):\n| subject | connections | req/s | vs ${base} | p99 ms | peak RSS MB | CPU µs/update | non-2xx | socket errors | lost or doubled |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |`,
    );
    for (const subject of [receiver.name, floor.name])
      for (const count of scaleCounts) {
        const list = scaleRows.filter(at(count, subject));
        if (!list.length) continue;
        const m = (/** @type {keyof Row} */ key) => median(of(list, () => true, key));
        const vs = median(roundRatios(scaleRows, at(count, subject), at(base, subject), 'rps'));
        print(
          `| ${subject} | ${count} | ${Math.round(m('rps'))} | ${cell(vs, 2)} | ${cell(m('p99'))} | ${cell(maxOf(of(list, () => true, 'rss')), 0)} | ${cell(m('cpu'))} | ${sum(of(list, () => true, 'non2xx'))} | ${sum(of(list, () => true, 'socketErrors'))} | ${list.every((r) => r.ok) ? 'none' : 'SOME'} |`,
        );
      }
    const floorRatio = median(roundRatios(scaleRows, at(top, floor.name), at(base, floor.name), 'rps'));
    const overFloor = median(roundRatios(scaleRows, at(top), at(top, floor.name), 'rps'));
    print(
      `At ${top} connections the floor kept ${cell(floorRatio, 2)} of its ${base}-connection req/s and the receiver ${cell(scaleRatio, 2)}; the receiver ran at ${cell(overFloor, 2)}× the floor's req/s there.`,
    );
  }
  print(
    '\nTargets (ratios: median over rounds of the ratio within each round, or the worst round where it says so):',
  );
  print('| target | measured | goal | met |\n| --- | --- | --- | --- |');
  for (const [name, value, goal, met, digits = 2] of targets)
    print(
      `| ${name} | ${cell(value, digits)} | ${goal} | ${Number.isNaN(value) ? 'not run' : met ? 'yes' : 'NO'} |`,
    );
  print(`\nLoad average (/proc/loadavg) after: ${loadAverage()}`);
  if (dedup) {
    const { updates } = dedup;
    const perUpdate = (/** @type {number} */ bytes) => bytes / updates;
    // 100 updates/s for DEDUP_TTL_SECONDS (a day) at this density.
    const day = (/** @type {number} */ bytes) =>
      `${((perUpdate(bytes) * 100 * 86_400) / 2 ** 20).toFixed(1)} MiB`;
    print(
      `\nDedup memory in Redis (used_memory; ${updates.toLocaleString('en')} updates, 100 bots, sequential ids interleaved):`,
    );
    print('| format | bytes per update | 100 updates/s for a day |\n| --- | --- | --- |');
    print(`| bitmaps (now) | ${perUpdate(dedup.bitmaps).toFixed(2)} | ${day(dedup.bitmaps)} |`);
    print(`| one key per update (before) | ${perUpdate(dedup.keys).toFixed(1)} | ${day(dedup.keys)} |`);
  }
  return { rows, scaleRows, targets, zeroLoss, dedup };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const options = parseArgs(process.argv.slice(2));
  runBench(options).then(
    ({ zeroLoss }) => process.exit(zeroLoss ? 0 : 1),
    (/** @type {unknown} */ error) => {
      console.error(error);
      process.exit(2);
    },
  );
}
