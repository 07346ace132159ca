import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './support/brokers.js';
import { FakeBotApi, realisticUpdate } from './support/fake-bot-api.js';
import { startMockKafka } from './support/kafka.js';
import { ReceiverProcess } from './support/receiver-process.js';
import { TelegramSender } from './support/telegram-sender.js';
import { waitUntil } from './support/wait.js';

/** The built service run as a user runs it: `node dist/main.js` with environment variables. */
const TOKEN = '333333:AAH_process-bot-token-XYZ';
const BOT_ID = 333333;
const SECRET = 'process_secret_value';
const REDIS_URL = 'redis://127.0.0.1:6379';

describe('node dist/main.js', () => {
  let api: FakeBotApi;
  let redis: Redis;
  let queue: string;

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [{ token: TOKEN, id: BOT_ID, username: 'process_bot' }] });
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await api.close();
    redis.disconnect();
  });
  beforeEach(() => {
    queue = `test:process:${randomUUID()}`;
    api.clearCalls();
  });
  afterEach(async () => {
    const keys = await redis.keys(`${queue}*`);
    if (keys.length > 0) await redis.del(...keys);
  });

  const env = (port: number, extra: Record<string, string> = {}): Record<string, string> => ({
    TELEGRAM_TOKEN: TOKEN,
    WEBHOOK_DOMAIN: 'bot.example.com',
    WEBHOOK_PORT: String(port),
    WEBHOOK_BIND: '127.0.0.1',
    WEBHOOK_SECRET: SECRET,
    REDIS_URL,
    REDIS_QUEUE_NAME: queue,
    TELEGRAM_API_URL: api.url,
    ...extra,
  });

  const postTo = (port: number, path: string, body: string, secret = SECRET) =>
    fetch(`http://127.0.0.1:${port}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
      body,
    });

  it('registers the webhook, puts a POSTed update on the Redis list byte for byte, exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const sut = await ReceiverProcess.start(env(port));
    const [set] = api.calls('setWebhook');
    expect(set?.params.url).toMatch(/^https:\/\/bot\.example\.com\/[A-Za-z0-9_-]{43}$/);
    expect(set?.params.secret_token).toBe(SECRET);
    const path = String(set?.params.url).split('/').pop() as string;

    const body = '{"update_id": 123456789,  "message": {"text": "héllo", "unknown_field": [1, {"a": null}]}}';
    const response = await postTo(port, path, body);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    const stored = await redis.lrangeBuffer(queue, 0, -1);
    expect(stored.map((b) => b.toString('hex'))).toEqual([Buffer.from(body).toString('hex')]);

    expect(await sut.stop()).toBe(0);
    expect(api.calls('deleteWebhook')).toHaveLength(1);
  });

  /** Every module the built service imports while starting with these settings (an ESM resolve hook). */
  async function importsAtStart(settings: Record<string, string>): Promise<string> {
    const record = join(tmpdir(), `receiver-modules-${randomUUID()}.txt`);
    const hooks = `import { appendFileSync } from 'node:fs';
      export async function resolve(specifier, context, next) {
        const resolved = await next(specifier, context);
        appendFileSync(${JSON.stringify(record)}, resolved.url + '\\n');
        return resolved;
      }`;
    const register = `import { register } from 'node:module';
      register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}));`;
    const sut = await ReceiverProcess.start(settings, 20_000, [
      '--import',
      `data:text/javascript,${encodeURIComponent(register)}`,
    ]);
    try {
      expect(sut.logs).toContain('Receiving 1 bot(s)');
      return readFileSync(record, 'utf8');
    } finally {
      await sut.stop();
      rmSync(record, { force: true });
    }
  }

  it('loads the client code of the configured brokers only', async () => {
    const imported = await importsAtStart(env(await freePort()));
    expect(imported).toContain('/dist/publisher/targets/redis/redis-queue.target.js');
    expect(imported).toContain('/dist/publisher/targets/redis/redis-queue.publisher.js');
    // Nor Redis pub/sub's files (REDIS_PUBSUB is off), though they share the Redis folder.
    expect(imported).not.toMatch(
      /\/publisher\/targets\/(mqtt|amqp|nats|kafka)\/|\/redis-pubsub\.|@nats-io|amqp-connection-manager|\/kafkajs\/|\/aedes\//,
    );
  });

  it("loads Kafka's client code, and no other broker's, when Kafka is the one target", async () => {
    const cluster = await startMockKafka();
    try {
      const imported = await importsAtStart(
        env(await freePort(), { REDIS_URL: '', KAFKA_BROKERS: cluster.bootstrap }),
      );
      expect(imported).toContain('/dist/publisher/targets/kafka/kafka.target.js');
      expect(imported).toMatch(/\/node_modules\/kafkajs\//);
      // Nor the embedded MQTT broker, which stands in only when no target is configured.
      expect(imported).not.toMatch(
        /\/publisher\/targets\/(redis|mqtt|amqp|nats)\/|@nats-io|amqp-connection-manager|\/aedes\//,
      );
    } finally {
      await cluster.stop();
    }
  });

  it('exits 1 listing every bad setting, without printing the token', async () => {
    const sut = await ReceiverProcess.start({
      TELEGRAM_TOKEN: 'not-a-token-but-secret-looking',
      WEBHOOK_PORT: 'eighty',
      WEBHOOK_LIMIT_SUBNETS: '149.154.160.0/20,nonsense',
      REDIS_QUEUE_MODE: 'zset',
    });
    expect(await sut.exited).toBe(1);
    for (const name of [
      'WEBHOOK_DOMAIN',
      'WEBHOOK_PORT',
      'WEBHOOK_LIMIT_SUBNETS',
      'REDIS_QUEUE_MODE',
      'TELEGRAM_TOKEN',
    ]) {
      expect(sut.logs).toContain(name);
    }
    expect(sut.logs).toContain('nonsense');
    expect(sut.logs).not.toContain('not-a-token-but-secret-looking');
  });

  it('exits 1 naming the bot, not the token, when the Bot API rejects the token', async () => {
    const sut = await ReceiverProcess.start(
      env(await freePort(), { TELEGRAM_TOKEN: '999:unknown_token_value' }),
    );
    expect(await sut.exited).toBe(1);
    expect(sut.logs).toContain('401');
    expect(sut.logs).toContain('TELEGRAM_TOKEN');
    expect(sut.logs).not.toContain('unknown_token_value');
  });

  it('SIGTERM under load: a second instance takes over and every update answered 200 is on the queue once', async () => {
    const port = await freePort();
    const settings = env(port, {
      WEBHOOK_ENDPOINT: 'hook',
      TELEGRAM_DELETE_WEBHOOK: 'false',
      SHUTDOWN_TIMEOUT_MS: '5000',
    });
    const first = await ReceiverProcess.start(settings);
    const sender = new TelegramSender({
      url: `http://127.0.0.1:${port}/hook`,
      secret: SECRET,
      maxBackoffMs: 300,
      deadlineMs: 45_000,
    });
    const updates = Array.from({ length: 3000 }, (_, i) =>
      realisticUpdate(5_000_000 + i, { chatId: i % 50 }),
    );
    const run = sender.send(updates);
    // Mid-run by what the first instance has done, not by the clock: a tenth of the load is queued.
    await waitUntil(async () => (await redis.llen(queue)) >= 300, 20_000, 10);
    first.signal('SIGTERM');
    expect(await first.exited).toBe(0);
    const second = await ReceiverProcess.start(settings);
    try {
      const result = await run;
      expect(result.failed).toEqual([]);
      const stored = (await redis.lrange(queue, 0, -1)).map(
        (s) => (JSON.parse(s) as { update_id: number }).update_id,
      );
      const acked = [...result.acked.keys()];
      expect(acked).toHaveLength(3000);
      expect(new Set(stored).size).toBe(stored.length);
      expect(stored.sort()).toEqual(acked.sort());
      // The switch-over happened mid-run: some deliveries met the drain (503) or no listener at all.
      expect((result.statusCounts[503] ?? 0) + (result.statusCounts.error ?? 0)).toBeGreaterThan(0);
    } finally {
      await sender.close();
      expect(await second.stop()).toBe(0);
    }
  });

  it('never prints the token or the secret, even at LOG_LEVEL=trace through errors and an outage', async () => {
    const port = await freePort();
    const sut = await ReceiverProcess.start(
      env(port, {
        LOG_LEVEL: 'trace',
        WEBHOOK_ENDPOINT: 'token',
        PUBLISH_TIMEOUT_MS: '300',
        REDIS_URL: 'redis://127.0.0.1:1',
      }),
    );
    const body = JSON.stringify(realisticUpdate(1));
    expect((await postTo(port, TOKEN, body)).status).toBe(503);
    expect((await postTo(port, TOKEN, body, 'wrong')).status).toBe(401);
    expect((await postTo(port, TOKEN, '{"update_id":')).status).toBe(400);
    expect((await postTo(port, 'nope', body)).status).toBe(404);
    await fetch(`http://127.0.0.1:${port}/status`);
    await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(await sut.stop()).toBe(0);
    expect(sut.logs.length).toBeGreaterThan(200);
    // One line per rejected request and per publish failure.
    expect(sut.logs.match(/Rejected a webhook request/g)).toHaveLength(2);
    expect(sut.logs).toContain(
      'Rejected a request for bot @process_bot (TELEGRAM_TOKEN): body is not valid JSON',
    );
    expect(sut.logs).toMatch(/Update 1 of bot @process_bot \(TELEGRAM_TOKEN\) not stored, answered 503/);
    expect(sut.logs).not.toContain(TOKEN);
    expect(sut.logs).not.toContain(TOKEN.split(':')[1]);
    expect(sut.logs).not.toContain(SECRET);
    // Structured: one JSON object per line.
    for (const line of sut.logs.trim().split('\n')) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });
});
