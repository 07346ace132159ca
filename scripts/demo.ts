/**
 * `npm run demo` — the whole path of an update, offline, in a few seconds: no bot token, no public
 * URL, no broker, no network. It starts
 *   - the fake Bot API (scripts/fake-bot-api.ts) as "Telegram",
 *   - the receiver itself (src/main.ts, as a child process) with no broker configured, so it runs its
 *     embedded MQTT broker (on a free port),
 *   - the example consumer (examples/consumer/worker.ts), which answers every text message,
 * then delivers a few realistic updates to the webhook the way Telegram does, and prints each one's
 * path: received → published → consumed → reply sent. Exit 0 when every update went the whole way.
 *
 * TypeScript runs directly through scripts/ts/register.js (swc), so no build is needed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { start as startConsumer, type Worker } from '../examples/consumer/worker.js';
import { FakeBotApi, realisticUpdate } from './fake-bot-api.js';
import { freePort } from './free-port.js';
import { waitUntil } from './wait.js';

/** A made-up bot: the fake Bot API knows it, Telegram does not. Its id is the token's prefix, as for real bots. */
const BOT = {
  token: '5550001234:DEMO-this-is-not-a-real-token_0000000',
  id: 5550001234,
  username: 'receiver_demo_bot',
  firstName: 'Receiver demo',
};
const PUBLIC_DOMAIN = 'receiver.example.com';
const STEP_TIMEOUT_MS = 10_000;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const MESSAGES: Array<{ chatId: number; text: string; where: string }> = [
  { chatId: 1001, text: 'Hello! 👋', where: 'a private chat' },
  { chatId: 1002, text: '/start', where: 'another private chat' },
  { chatId: -1001234567890, text: 'What can this bot do?', where: 'a group' },
  { chatId: 1001, text: 'Thanks, bye', where: 'the first chat again' },
];

const say = (text = ''): void => console.log(text);

class DemoFailure extends Error {}

/** Resolves once `check()` returns a value; fails the demo after STEP_TIMEOUT_MS. */
async function waitFor<T>(what: string, check: () => T | undefined): Promise<T> {
  let value: T | undefined;
  try {
    await waitUntil(() => (value = check()) !== undefined, STEP_TIMEOUT_MS, 10);
  } catch {
    throw new DemoFailure(`${what} did not happen within ${STEP_TIMEOUT_MS / 1000} s`);
  }
  return value as T;
}

/** The receiver as a user runs it, configured only by these variables (never your .env or environment). */
async function startReceiver(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; logs: () => string }> {
  let output = '';
  const child = spawn(
    process.execPath,
    ['--import', new URL('./ts/register.js', import.meta.url).href, join(ROOT, 'src/main.ts')],
    {
      cwd: ROOT,
      // A path that does not exist: a .env beside the project (with a real token) is not read.
      env: {
        PATH: process.env.PATH ?? '',
        ENV_FILE: join(tmpdir(), 'telegram-receiver-demo.no-env'),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor('the receiver starting', () => {
    if (child.exitCode !== null) throw new DemoFailure(`the receiver exited with code ${child.exitCode}`);
    return output.includes('Receiving ') ? true : undefined;
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw new DemoFailure(`${(error as Error).message}\n--- receiver output ---\n${output}`);
  });
  return { child, logs: () => output };
}

async function stopReceiver(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await once(child, 'exit');
  clearTimeout(timer);
}

async function main(): Promise<number> {
  say('telegram-receiver demo — offline: a fake Bot API, the receiver, its embedded MQTT broker, a consumer');
  say();
  const api = await FakeBotApi.start({ bots: [BOT] });
  const httpPort = await freePort();
  const mqttPort = await freePort();
  const mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
  let receiver: { child: ChildProcess; logs: () => string } | undefined;
  let consumer: Worker | undefined;
  let tap: mqtt.MqttClient | undefined;
  const consumerLog: string[] = [];
  try {
    say(`  Telegram   a fake Bot API on ${api.url} (bot @${BOT.username})`);
    receiver = await startReceiver({
      TELEGRAM_TOKEN: BOT.token,
      TELEGRAM_API_URL: api.url,
      WEBHOOK_DOMAIN: PUBLIC_DOMAIN,
      WEBHOOK_BIND: '127.0.0.1',
      WEBHOOK_PORT: String(httpPort),
      MQTT_EMBEDDED_PORT: String(mqttPort),
      LOG_LEVEL: 'error',
    });
    const webhook = api.webhookInfo(BOT.token);
    const secret = api.webhookSecret(BOT.token);
    const path = new URL(webhook.url).pathname;
    const shortPath = path.length > 16 ? `${path.slice(0, 12)}…` : path;
    say(
      `  receiver   on http://127.0.0.1:${httpPort}; it registered its webhook: https://${PUBLIC_DOMAIN}${shortPath}`,
    );
    say(`             (the demo delivers to 127.0.0.1 what Telegram would send to that URL)`);
    say(`  broker     embedded MQTT on ${mqttUrl} (no REDIS_URL or MQTT_URL set)`);

    // What the broker carries, watched from the side: update_id → [topic, bytes].
    const published = new Map<number, Array<{ topic: string; bytes: number }>>();
    tap = await mqtt.connectAsync(mqttUrl, { clientId: `demo-tap-${process.pid}` });
    await tap.subscribeAsync('telegram/#', { qos: 1 });
    tap.on('message', (topic, payload) => {
      const id = (JSON.parse(payload.toString()) as { update_id: number }).update_id;
      published.set(id, [...(published.get(id) ?? []), { topic, bytes: payload.length }]);
    });

    const consumed = new Set<number>();
    consumer = await startConsumer({
      tokens: [BOT.token],
      telegramApiUrl: api.url,
      mqtt: { url: mqttUrl, clientId: `demo-consumer-${process.pid}` },
      reply: (text, received) => {
        consumed.add(received.update.update_id);
        return `You said: ${text}`;
      },
      log: (message) => consumerLog.push(message),
    });
    say('  consumer   examples/consumer, subscribed to telegram/+/message; it answers every text');
    say();

    const firstId = 815_000_001;
    const updates = MESSAGES.map((m, i) => realisticUpdate(firstId + i, { chatId: m.chatId, text: m.text }));
    for (const [i, update] of updates.entries()) {
      const { chatId, text, where } = MESSAGES[i] as (typeof MESSAGES)[number];
      const id = firstId + i;
      say(`▸ update ${id} · message in ${where}: "${text}"`);
      const started = Date.now();
      const status = await deliver(`http://127.0.0.1:${httpPort}${path}`, secret, update);
      if (status !== 200) throw new DemoFailure(`the receiver answered ${status} instead of 200`);
      say(
        `    received    POST ${shortPath} → 200 in ${Date.now() - started} ms (only after the broker confirmed)`,
      );
      const [first] = await waitFor(`publishing update ${id}`, () => published.get(id));
      say(`    published   MQTT ${first?.topic} (QoS 1, ${first?.bytes} bytes, the update exactly as sent)`);
      await waitFor(`the consumer taking update ${id}`, () => (consumed.has(id) ? true : undefined));
      say('    consumed    by the example consumer');
      const reply = await waitFor(`the reply to update ${id}`, () =>
        api.sentMessages().find((m) => Number(m.chat_id) === chatId && m.text === `You said: ${text}`),
      );
      say(`    reply sent  sendMessage to chat ${chatId}: "${String(reply.text)}"`);
      say();
    }

    // Telegram delivers at least once: a repeat is answered 200 and not published again.
    const repeatId = firstId;
    say(`▸ update ${repeatId} again · Telegram may deliver an update twice (at least once)`);
    const replies = api.sentMessages().length;
    const status = await deliver(`http://127.0.0.1:${httpPort}${path}`, secret, updates[0] as object);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const copies = published.get(repeatId)?.length ?? 0;
    if (status !== 200 || copies !== 1 || api.sentMessages().length !== replies) {
      throw new DemoFailure(`the repeated update was answered ${status} and published ${copies} time(s)`);
    }
    say(
      `    received    POST ${shortPath} → 200, recognised as a duplicate: not published again, no second reply`,
    );
    say();
    say(`✓ ${updates.length} updates went received → published → consumed → reply sent.`);
    say();
    say('Next: set TELEGRAM_TOKEN and WEBHOOK_DOMAIN (or TELEGRAM_MODE=polling for no public URL),');
    say('      REDIS_URL or MQTT_URL for a real broker, and run: npm run build && npm start');
    return 0;
  } catch (error) {
    say();
    console.error(`✗ ${(error as Error).message}`);
    if (receiver && !(error as Error).message.includes('--- receiver output ---')) {
      console.error(`--- receiver output ---\n${receiver.logs()}`);
    }
    if (consumerLog.length > 0) console.error(`--- consumer log ---\n${consumerLog.join('\n')}`);
    return 1;
  } finally {
    await consumer?.close();
    await tap?.endAsync();
    if (receiver) await stopReceiver(receiver.child);
    await api.close();
  }
}

/** One delivery as Telegram makes it: POST, JSON body, the secret in X-Telegram-Bot-Api-Secret-Token. */
async function deliver(url: string, secret: string | undefined, update: object): Promise<number> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(secret && { 'x-telegram-bot-api-secret-token': secret }),
    },
    body: JSON.stringify(update),
  });
  await response.arrayBuffer();
  return response.status;
}

process.exitCode = await main();
