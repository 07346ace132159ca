#!/usr/bin/env node
// @ts-check
// Start-up with many bots: the built receiver (`npm run build` first) started as a child process with
// 10,000 bots in BOTS_FILE, against the fake Bot API answering every call after 50 ms, as a Bot API
// far away would. Measures the time from spawning it until GET /status (the readiness the README
// names) answers 200, and its peak RSS (VmHWM in /proc/<pid>/status); then how long one /status takes.
// From BOTS_FILE: a first start (no webhook set yet: getMe, getWebhookInfo, setWebhook per bot) and a
// restart (the webhooks set: getMe and getWebhookInfo per bot). When the build has the shared store
// (BOTS_STORE=redis): a start that seeds it from BOTS_FILE, then one from the store alone (stored
// bots keep their getMe identity: getWebhookInfo per bot) — the start the goal is about.
// Prints a table and one JSON line of the figures; `botsStartup()` is what `npm run bench` calls.
//
//   node bench/bots-startup.mjs [--bots 10000] [--api-delay 50] [--cpu-prof]
//
// Redis: the shared one on 127.0.0.1:6379 (REDIS_URL overrides) under a queue name of its own,
// whose keys are deleted afterwards.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = join(ROOT, 'dist', 'main.js');
/** The targets (#15, point 6). */
const GOALS = { readyMs: 10_000, peakRssMb: 300 };
const START_TIMEOUT_MS = 300_000;

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/**
 * The fake Bot API is TypeScript (scripts/fake-bot-api.ts): loaded through the repository's swc hooks.
 * @returns {Promise<typeof import('../scripts/fake-bot-api.js').FakeBotApi>}
 */
async function loadFakeBotApi() {
  await import('../scripts/ts/register.js');
  return (await import('../scripts/fake-bot-api.js')).FakeBotApi;
}

/** @typedef {{ token: string, id: number, username: string, endpoint: string, secret: string }} BenchBot */

/**
 * `count` bots, each with its own token, getMe id, path and secret.
 * @param {number} count
 * @returns {BenchBot[]}
 */
export function benchBots(count) {
  return Array.from({ length: count }, (_, i) => ({
    token: `${700_000_000 + i}:AAH_bench-startup-bot-${i}`,
    id: 700_000_000 + i,
    username: `bench_${i}_bot`,
    endpoint: `b/${i}`,
    secret: `bench_secret_${i}`,
  }));
}

/** @param {BenchBot[]} bots */
function botsFileOf(bots) {
  const lines = ['bots:'];
  for (const bot of bots) {
    lines.push(`  - token: "${bot.token}"`, `    endpoint: ${bot.endpoint}`, `    secret: ${bot.secret}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * @param {number} port
 * @param {string} path
 * @returns {Promise<{ status: number | undefined, bytes: number, ms: number }>}
 */
function get(port, path) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (/** @type {Buffer} */ chunk) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode, bytes, ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * POSTs an update to one bot's webhook path with its secret: the status.
 * @param {number} port
 * @param {BenchBot} bot
 * @param {number} updateId
 * @returns {Promise<number | undefined>}
 */
function postUpdate(port, bot, updateId) {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: `/${bot.endpoint}`,
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': bot.secret },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('error', reject);
    req.end(
      JSON.stringify({
        update_id: updateId,
        message: { message_id: 1, date: 0, chat: { id: 1, type: 'private' }, text: 'hi' },
      }),
    );
  });
}

/** @param {number | undefined} pid */
function peakRssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1]);
  return Math.round((kb / 1024) * 10) / 10;
}

/**
 * Spawns the receiver and waits for /status to answer 200; then checks that the `probe` bots are
 * routed (their update answered 200), so ready means ready for every bot.
 * @param {Record<string, string>} env
 * @param {BenchBot[]} probe
 * @param {string[]} nodeArgs
 */
async function startOnce(env, probe, nodeArgs = []) {
  const port = Number(env.WEBHOOK_PORT);
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, MAIN], {
    env: { PATH: process.env.PATH ?? '', ENV_FILE: '/nonexistent/.env', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on(
    'data',
    (/** @type {Buffer} */ chunk) => (stderr = (stderr + chunk.toString()).slice(-4000)),
  );
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the receiver exited (${child.exitCode}):\n${stderr}`);
      if (performance.now() - started > START_TIMEOUT_MS)
        throw new Error('the receiver was not ready in time');
      const answer = await get(port, '/status').catch(() => undefined);
      if (answer?.status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const readyMs = Math.round(performance.now() - started);
    const peak = peakRssMb(child.pid);
    let routed = 0;
    for (const [i, bot] of probe.entries())
      if ((await postUpdate(port, bot, Date.now() * 10 + i)) === 200) routed++;
    const status = await get(port, '/status');
    return {
      readyMs,
      peakRssMb: peak,
      routedAtReady: `${routed}/${probe.length}`,
      statusMs: Math.round(status.ms * 10) / 10,
      statusBytes: status.bytes,
    };
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
}

/**
 * Deletes every key under `prefix` in the shared Redis.
 * @param {Redis} redis
 * @param {string} prefix
 */
async function deleteKeys(redis, prefix) {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** Whether the build has the shared bot store (BOTS_STORE=redis). */
const HAS_STORE = existsSync(join(ROOT, 'dist', 'bots', 'store', 'bot-store.service.js'));

/**
 * @typedef {{ readyMs: number, peakRssMb: number, routedAtReady: string, botApiCalls: number, statusMs: number, statusBytes: number }} Start
 */

/**
 * Starts the built receiver with `bots` bots against a Bot API answering after `apiDelayMs`, from
 * BOTS_FILE (a first start, then a restart with the webhooks set) and, when the build has it, from
 * the shared store (seeded by a start with BOTS_FILE, then started with the store alone: no getMe).
 * `readyMs` and `peakRssMb` are those of the start the goal is about: from the store when
 * there is one, else BOTS_FILE's first start.
 * @param {{ bots?: number, apiDelayMs?: number, nodeArgs?: string[] }} [options]
 */
export async function botsStartup({ bots = 10_000, apiDelayMs = 50, nodeArgs = [] } = {}) {
  if (!existsSync(MAIN)) throw new Error('dist/main.js is missing: run `npm run build` first');
  const FakeBotApi = await loadFakeBotApi();
  const all = benchBots(bots);
  /** The first, middle and last bot: each must be answered 200 once ready. */
  const probe = [all[0], all[Math.floor(bots / 2)], all[bots - 1]].filter((bot) => bot !== undefined);
  const api = await FakeBotApi.start({ bots: all, delayMs: apiDelayMs });
  const dir = mkdtempSync(join(tmpdir(), 'bench-startup-'));
  const file = join(dir, 'bots.yaml');
  writeFileSync(file, botsFileOf(all));
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const queue = `bench-startup-${randomUUID()}`;
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  /** @type {(env: Record<string, string>) => Promise<Start>} */
  const measure = async (env) => {
    api.clearCalls();
    const start = await startOnce(env, probe, nodeArgs);
    return { ...start, botApiCalls: api.calls().length };
  };
  try {
    const base = {
      TELEGRAM_API_URL: api.url,
      WEBHOOK_DOMAIN: 'bench.example.com',
      WEBHOOK_PORT: String(await freePort()),
      WEBHOOK_BIND: '127.0.0.1',
      TELEGRAM_DELETE_WEBHOOK: 'false',
      REDIS_URL: redisUrl,
      REDIS_QUEUE_NAME: queue,
    };
    const fileCold = await measure({ ...base, BOTS_FILE: file });
    const fileRestart = await measure({ ...base, BOTS_FILE: file });
    /** @type {{ seed: Start, start: Start } | undefined} */
    let store;
    if (HAS_STORE) {
      const stored = {
        ...base,
        BOTS_STORE: 'redis',
        BOTS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      };
      const seed = await measure({ ...stored, BOTS_FILE: file });
      store = { seed, start: await measure(stored) };
    }
    const goal = store?.start ?? fileCold;
    return {
      bots,
      apiDelayMs,
      source: store ? 'store' : 'file',
      readyMs: goal.readyMs,
      peakRssMb: goal.peakRssMb,
      file: { cold: fileCold, restart: fileRestart },
      ...(store && { store }),
    };
  } finally {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
    await redis.connect().then(
      // The queue's keys, and the store's, whose names begin with a hash tag of the queue name.
      async () => {
        await deleteKeys(redis, queue);
        await deleteKeys(redis, `{${queue}`);
      },
      () => undefined,
    );
    redis.disconnect();
  }
}

/** @param {Awaited<ReturnType<typeof botsStartup>>} figures */
function printTable(figures) {
  /** @type {(what: string, start: Start | undefined) => string[]} */
  const rows = (what, start) =>
    start === undefined
      ? []
      : [
          `${what.padEnd(36)}${String(start.readyMs).padStart(10)}${String(start.peakRssMb).padStart(10)}` +
            `${String(start.botApiCalls).padStart(10)}${String(start.statusMs).padStart(11)}${start.routedAtReady.padStart(8)}`,
        ];
  const lines = [
    `${figures.bots} bots, Bot API answering in ${figures.apiDelayMs} ms, ${cpus().length} CPU(s)`,
    `${'start'.padEnd(36)}${'ready ms'.padStart(10)}${'RSS MB'.padStart(10)}${'API calls'.padStart(10)}${'/status ms'.padStart(11)}${'routed'.padStart(8)}`,
    ...rows('BOTS_FILE, first start', figures.file.cold),
    ...rows('BOTS_FILE, restart (webhooks set)', figures.file.restart),
    ...rows('store, seeded from BOTS_FILE', figures.store?.seed),
    ...rows('store alone (no getMe)', figures.store?.start),
    `goal (${figures.source === 'store' ? 'from the store' : 'BOTS_FILE first start; this build has no store'}): ` +
      `ready ${figures.readyMs} ms (goal ≤ ${GOALS.readyMs}), peak RSS ${figures.peakRssMb} MB (goal ≤ ${GOALS.peakRssMb})`,
    figures.readyMs <= GOALS.readyMs && figures.peakRssMb <= GOALS.peakRssMb ? 'goals met' : 'GOALS NOT MET',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  /** @type {(name: string, fallback: number) => number} */
  const option = (name, fallback) => {
    const at = args.indexOf(name);
    return at === -1 ? fallback : Number(args[at + 1]);
  };
  // --cpu-prof: the receiver writes a V8 CPU profile of each start when it exits.
  const profiles = args.includes('--cpu-prof')
    ? mkdtempSync(join(tmpdir(), 'bench-startup-profiles-'))
    : undefined;
  const nodeArgs = profiles === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profiles}`];
  if (profiles !== undefined) process.stderr.write(`CPU profiles in ${profiles}\n`);
  const figures = await botsStartup({
    bots: option('--bots', 10_000),
    apiDelayMs: option('--api-delay', 50),
    nodeArgs,
  });
  process.stdout.write(`${JSON.stringify({ botsStartup: { ...figures, goals: GOALS } })}\n`);
  printTable(figures);
}
