import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { startApp, writeBotsFile, type TestApp } from './support/app.js';
import { freePort, startPrivateRedis } from './support/brokers.js';
import { FakeBotApi } from './support/fake-bot-api.js';
import { ReceiverProcess } from './support/receiver-process.js';
import { waitUntil } from './support/wait.js';

/** The shared bot store (BOTS_STORE=redis) as Redis holds it, read directly. */
const REDIS_URL = 'redis://127.0.0.1:6379';
const ADMIN_TOKEN = 'store_admin_token_0123456789abcdef';
const API_BOT = { token: '731001:AAH_store-api-bot-secret-part', id: 731001, username: 'api_bot' };
const FILE_BOT = { token: '731002:AAH_store-file-bot-secret-part', id: 731002, username: 'file_bot' };
const API_SECRET = 'api_bot_webhook_secret_value';
const FILE_SECRET = 'file_bot_webhook_secret_value';
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests index answers freely
type Answer = any;

describe('the shared bot store (BOTS_STORE=redis)', () => {
  let api: FakeBotApi;
  let redis: Redis;
  let queue: string;
  let key: string;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [API_BOT, FILE_BOT] });
    redis = new Redis(REDIS_URL);
  });
  beforeEach(() => {
    queue = `test:store:${randomUUID()}`;
    key = randomBytes(32).toString('base64');
    api.clearCalls();
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    // The queue's keys, and those under its hash tag: dedup ({queue}:dedup:…) and the store ({queue:bots}:…).
    const keys = [...(await redis.keys(`${queue}*`)), ...(await redis.keys(`{${queue}*`))];
    if (keys.length > 0) await redis.del(...keys);
  });
  afterAll(async () => {
    redis.disconnect();
    await api.close();
  });

  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    TELEGRAM_API_URL: api.url,
    WEBHOOK_DOMAIN: 'store.example.com',
    REDIS_URL,
    REDIS_QUEUE_NAME: queue,
    BOTS_STORE: 'redis',
    BOTS_ENCRYPTION_KEY: key,
    TELEGRAM_DELETE_WEBHOOK: 'false',
    ...extra,
  });

  async function replica(extra: Record<string, string> = {}): Promise<{ app: TestApp; admin: string }> {
    const port = await freePort();
    const app = await startApp(env({ ADMIN_PORT: String(port), ADMIN_TOKEN, ...extra }), { listen: true });
    apps.push(app);
    return { app, admin: `http://127.0.0.1:${port}` };
  }

  async function call(
    base: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Answer; text: string }> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, text, body: text ? JSON.parse(text) : undefined };
  }

  const deliver = async (app: TestApp, path: string, secret: string): Promise<number> => {
    const response = await fetch(`${app.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
      body: JSON.stringify({ update_id: 1, message: { message_id: 1, text: 'hi' } }),
    });
    await response.arrayBuffer();
    return response.status;
  };

  /** Every value of every key the store wrote, as one text. */
  async function storedText(): Promise<string> {
    const keys = await redis.keys(`{${queue}:bots}*`);
    const values = await Promise.all(
      keys.map(async (k) =>
        (await redis.type(k)) === 'hash'
          ? Object.entries(await redis.hgetall(k))
              .flat()
              .join('\n')
          : ((await redis.get(k)) ?? ''),
      ),
    );
    return `${keys.join('\n')}\n${values.join('\n')}`;
  }

  it('starts with no bot at all, stores an added bot without its token or secret, and a replica started later routes it', async () => {
    const a = await replica();
    expect((await call(a.admin, 'GET', '/bots')).body.total).toBe(0);
    // Ready with no bot at all: a platform starts empty.
    expect((await fetch(`${a.app.url}/status`)).status).toBe(200);
    const created = await call(a.admin, 'POST', '/bots', {
      token: API_BOT.token,
      endpoint: 'api',
      secret: API_SECRET,
      mqtt_topic: 'shop/{type}',
      kafka_topic: 'shop.{bot}',
    });
    expect(created).toMatchObject({
      status: 201,
      body: { id: API_BOT.id, webhook_url: 'https://store.example.com/api' },
    });
    expect(api.calls('setWebhook', API_BOT.token)).toHaveLength(1);
    expect(await deliver(a.app, '/api', API_SECRET)).toBe(200);

    const stored = await storedText();
    expect(stored).toContain(`{${queue}:bots}:records`);
    expect(stored).toContain('"username":"api_bot"');
    expect(stored).toContain('"mqtt_topic":"shop/{type}"');
    for (const secret of [API_BOT.token, API_BOT.token.split(':')[1] as string, API_SECRET]) {
      expect(stored).not.toContain(secret);
    }
    expect(await redis.get(`{${queue}:bots}:version`)).toBe('1');

    // Started after the change: reads the store, calls getMe for none of its bots.
    const getMes = api.calls('getMe', API_BOT.token).length;
    const b = await replica();
    expect(await deliver(b.app, '/api', API_SECRET)).toBe(200);
    expect(api.calls('getMe', API_BOT.token)).toHaveLength(getMes);
    expect((await call(b.admin, 'GET', `/bots/${API_BOT.id}`)).body).toMatchObject({
      source: 'admin API',
      mqtt_topic: 'shop/{type}',
      kafka_topic: 'shop.{bot}',
    });
    // The same bot twice is 409, on any replica.
    expect((await call(b.admin, 'POST', '/bots', { token: API_BOT.token })).status).toBe(409);

    // A PATCH on B reaches A; the old path is gone on both.
    const patched = await call(b.admin, 'PATCH', `/bots/${API_BOT.id}`, { endpoint: 'api2' });
    expect(patched).toMatchObject({ status: 200, body: { endpoint: '/api2' } });
    await waitUntil(async () => (await deliver(a.app, '/api2', API_SECRET)) === 200);
    expect(await deliver(a.app, '/api', API_SECRET)).toBe(404);
    expect(await storedText()).not.toContain(API_SECRET);
  });

  it('seeds BOTS_FILE into the store at start: the file wins for the bots it lists, bots only in the store stay', async () => {
    const a = await replica();
    expect(
      (await call(a.admin, 'POST', '/bots', { token: API_BOT.token, endpoint: 'api', secret: API_SECRET }))
        .status,
    ).toBe(201);
    await a.app.close();

    const file = (endpoint: string): string =>
      writeBotsFile(
        `bots:\n  - token: "${FILE_BOT.token}"\n    endpoint: ${endpoint}\n    secret: ${FILE_SECRET}\n`,
      );
    const b = await replica({ BOTS_FILE: file('file1') });
    expect(await deliver(b.app, '/file1', FILE_SECRET)).toBe(200);
    expect(await deliver(b.app, '/api', API_SECRET)).toBe(200);
    const records = await redis.hgetall(`{${queue}:bots}:records`);
    expect(Object.keys(records).sort()).toEqual([String(API_BOT.id), String(FILE_BOT.id)]);
    expect(JSON.parse(records[String(FILE_BOT.id)] as string)).toMatchObject({
      source: 'BOTS_FILE entry 1',
      endpoint: 'file1',
    });
    await b.app.close();

    // The file changed while the store kept the old entry: the file wins.
    const c = await replica({ BOTS_FILE: file('file2') });
    expect(await deliver(c.app, '/file2', FILE_SECRET)).toBe(200);
    expect(await deliver(c.app, '/file1', FILE_SECRET)).toBe(404);
    expect(await deliver(c.app, '/api', API_SECRET)).toBe(200);
    const stored = await storedText();
    expect(stored).not.toContain(FILE_SECRET);
    expect(stored).not.toContain(FILE_BOT.token.split(':')[1]);
  });

  it('the last replica to stop leaves the stored bots their webhooks, even with TELEGRAM_DELETE_WEBHOOK=true', async () => {
    const a = await replica({ TELEGRAM_DELETE_WEBHOOK: 'true' });
    expect(
      (await call(a.admin, 'POST', '/bots', { token: API_BOT.token, endpoint: 'api', secret: API_SECRET }))
        .status,
    ).toBe(201);
    await a.app.close();
    expect(api.calls('deleteWebhook')).toHaveLength(0);
    expect(api.webhookInfo(API_BOT.token).url).toBe('https://store.example.com/api');
  });

  it('a change while Redis is out of reach is 503, and nothing is routed', async () => {
    const server = await startPrivateRedis();
    try {
      const a = await replica({ REDIS_URL: server.url });
      await server.stop();
      const refused = await call(a.admin, 'POST', '/bots', { token: API_BOT.token, endpoint: 'api' });
      expect(refused).toMatchObject({ status: 503, body: { error: 'Service Unavailable' } });
      expect(refused.body.message).toContain('the bot store cannot be reached');
      expect(refused.text).not.toContain(API_BOT.token.split(':')[1]);
      expect(await deliver(a.app, '/api', API_SECRET)).toBe(404);
      expect(api.calls('setWebhook', API_BOT.token)).toHaveLength(0);
    } finally {
      await server.stop();
    }
  });

  it('a wrong BOTS_ENCRYPTION_KEY stops start-up with a clear message, and prints no token', async () => {
    const a = await replica();
    expect(
      (await call(a.admin, 'POST', '/bots', { token: API_BOT.token, endpoint: 'api', secret: API_SECRET }))
        .status,
    ).toBe(201);
    const wrong = ReceiverProcess.spawn({
      ...env({ BOTS_ENCRYPTION_KEY: randomBytes(32).toString('base64') }),
      WEBHOOK_PORT: String(await freePort()),
    });
    expect(await wrong.exited).toBe(1);
    expect(wrong.logs).toContain(
      'cannot decrypt the stored bots: BOTS_ENCRYPTION_KEY is not the key they were stored with',
    );
    expect(wrong.logs).not.toContain(API_BOT.token.split(':')[1]);
    expect(wrong.logs).not.toContain(API_SECRET);
    expect(wrong.logs).not.toContain('Receiving');
  });
});
