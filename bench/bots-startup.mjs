#!/usr/bin/env node
// @ts-check
// Start-up with many bots: the built receiver (`npm run build` first) started as a child process with
// 10,000 bots in BOTS_FILE, against the fake Bot API answering every call after 50 ms, as a Bot API
// far away would. Measures the time from spawning it until GET /status (the readiness the README
// names) answers 200, and its peak RSS (VmHWM in /proc/<pid>/status); then how long one /status takes.
// Two starts: a cold one (no webhook set yet: getMe, getWebhookInfo, setWebhook per bot) and a
// restart (the webhooks are set: getMe and getWebhookInfo per bot).
// Prints a table and one JSON line of the figures; `botsStartup()` is what `npm run bench` calls.
//
//   node bench/bots-startup.mjs [--bots 10000] [--api-delay 50] [--cpu-prof]
//
// Redis: the shared one on 127.0.0.1:6379 (REDIS_URL overrides) under a queue name of its own,
// whose keys are deleted afterwards.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
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
/** The issue's targets (#15, point 6). */
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

/** @param {number | undefined} pid */
function peakRssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1]);
  return Math.round((kb / 1024) * 10) / 10;
}

/**
 * Spawns the receiver and waits for /status to answer 200.
 * @param {Record<string, string>} env
 * @param {string[]} nodeArgs
 */
async function startOnce(env, nodeArgs = []) {
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
    const status = await get(port, '/status');
    return { readyMs, peakRssMb: peak, statusMs: Math.round(status.ms * 10) / 10, statusBytes: status.bytes };
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

/**
 * Starts the built receiver with `bots` bots against a Bot API answering after `apiDelayMs`:
 * `{ readyMs, peakRssMb, bots }` of the cold start, plus the restart's and /status's figures.
 * @param {{ bots?: number, apiDelayMs?: number, nodeArgs?: string[] }} [options]
 */
export async function botsStartup({ bots = 10_000, apiDelayMs = 50, nodeArgs = [] } = {}) {
  if (!existsSync(MAIN)) throw new Error('dist/main.js is missing: run `npm run build` first');
  const FakeBotApi = await loadFakeBotApi();
  const all = benchBots(bots);
  const api = await FakeBotApi.start({ bots: all, delayMs: apiDelayMs });
  const dir = mkdtempSync(join(tmpdir(), 'bench-startup-'));
  const file = join(dir, 'bots.yaml');
  writeFileSync(file, botsFileOf(all));
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const queue = `bench-startup-${randomUUID()}`;
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    const env = {
      BOTS_FILE: file,
      TELEGRAM_API_URL: api.url,
      WEBHOOK_DOMAIN: 'bench.example.com',
      WEBHOOK_PORT: String(await freePort()),
      WEBHOOK_BIND: '127.0.0.1',
      TELEGRAM_DELETE_WEBHOOK: 'false',
      REDIS_URL: redisUrl,
      REDIS_QUEUE_NAME: queue,
    };
    const cold = await startOnce(env, nodeArgs);
    const coldCalls = api.calls().length;
    api.clearCalls();
    const restart = await startOnce(env, nodeArgs);
    return {
      bots,
      apiDelayMs,
      readyMs: cold.readyMs,
      peakRssMb: cold.peakRssMb,
      botApiCalls: coldCalls,
      restartReadyMs: restart.readyMs,
      restartPeakRssMb: restart.peakRssMb,
      restartBotApiCalls: api.calls().length,
      statusMs: restart.statusMs,
      statusBytes: restart.statusBytes,
    };
  } finally {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
    await redis.connect().then(
      () => deleteKeys(redis, queue),
      () => undefined,
    );
    redis.disconnect();
  }
}

/** @param {Awaited<ReturnType<typeof botsStartup>>} figures */
function printTable(figures) {
  /** @type {(what: string, measured: number, goal?: number) => string} */
  const row = (what, measured, goal) =>
    `${what.padEnd(34)}${String(measured).padStart(12)}${(goal === undefined ? '' : `≤ ${goal}`).padStart(12)}`;
  const lines = [
    `${figures.bots} bots from BOTS_FILE, Bot API answering in ${figures.apiDelayMs} ms, ${cpus().length} CPU(s)`,
    `${'start'.padEnd(34)}${'measured'.padStart(12)}${'goal'.padStart(12)}`,
    row('cold: ready (ms)', figures.readyMs, GOALS.readyMs),
    row('cold: peak RSS (MB)', figures.peakRssMb, GOALS.peakRssMb),
    row('cold: Bot API calls', figures.botApiCalls),
    row('restart: ready (ms)', figures.restartReadyMs, GOALS.readyMs),
    row('restart: peak RSS (MB)', figures.restartPeakRssMb, GOALS.peakRssMb),
    row('restart: Bot API calls', figures.restartBotApiCalls),
    row('GET /status (ms)', figures.statusMs),
    row('GET /status (bytes)', figures.statusBytes),
  ];
  const met = figures.readyMs <= GOALS.readyMs && figures.peakRssMb <= GOALS.peakRssMb;
  lines.push(met ? 'goals met' : 'GOALS NOT MET');
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
