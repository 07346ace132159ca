import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { FakeBotApi } from './support/fake-bot-api.js';
import { startApp, type TestApp } from './support/app.js';

const TOKEN = '111111:AAH_core-bot-token';
const SECRET = 'core_secret-123';
const REDIS_URL = 'redis://127.0.0.1:6379';

describe('webhook → Redis queue (core receiver)', () => {
  let api: FakeBotApi;
  let redis: Redis;
  let sut: TestApp;
  let queue: string;

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [{ token: TOKEN, id: 111111, username: 'core_bot' }] });
    redis = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    await api.close();
    redis.disconnect();
  });

  beforeEach(async () => {
    queue = `test:core:${randomUUID()}`;
    api.clearCalls();
    sut = await startApp({
      TELEGRAM_TOKEN: TOKEN,
      TELEGRAM_API_URL: api.url,
      WEBHOOK_DOMAIN: 'bot.example.com',
      WEBHOOK_ENDPOINT: 'telegram/hook',
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_LIMIT_SUBNETS: '149.154.160.0/20,91.108.4.0/22,2001:db8::/32',
      REDIS_URL,
      REDIS_QUEUE_NAME: queue,
    });
  });

  afterEach(async () => {
    await sut.close();
    await redis.del(queue);
  });

  const post = (
    body: string,
    headers: Record<string, string> = {},
    remoteAddress = '149.154.167.220',
    url = '/telegram/hook',
  ) =>
    sut.app.inject({
      method: 'POST',
      url,
      remoteAddress,
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET, ...headers },
      payload: body,
    });

  it('registers the webhook at start-up with url, secret and max_connections', () => {
    expect(api.calls('getMe')).toHaveLength(1);
    const [set] = api.calls('setWebhook');
    expect(set?.params).toMatchObject({
      url: 'https://bot.example.com/telegram/hook',
      secret_token: SECRET,
      max_connections: 40,
    });
    expect(set?.params).not.toHaveProperty('drop_pending_updates');
  });

  it('answers 200 with an empty body only once the exact bytes are on the Redis list', async () => {
    // Odd spacing, key order and an unknown update kind: all must arrive untouched.
    const body = '{ "update_id" : 9001,"brand_new_kind":{"x":1,"é":"ü"} ,"zzz":[1,2] }';
    const response = await post(body);
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('');
    const stored = await redis.lrangeBuffer(queue, 0, -1);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.equals(Buffer.from(body))).toBe(true);
  });

  it('keeps FIFO order on the list', async () => {
    for (const id of [5, 3, 4]) expect((await post(`{"update_id":${id},"message":{}}`)).statusCode).toBe(200);
    const stored = await redis.lrange(queue, 0, -1);
    expect(stored.map((s) => (JSON.parse(s) as { update_id: number }).update_id)).toEqual([5, 3, 4]);
  });

  it('rejects requests from outside WEBHOOK_LIMIT_SUBNETS with 403, IPv4 and IPv6', async () => {
    expect((await post('{"update_id":1}', {}, '10.1.2.3')).statusCode).toBe(403);
    expect((await post('{"update_id":1}', {}, '::ffff:91.108.4.10')).statusCode).toBe(200);
    expect((await post('{"update_id":2}', {}, '2001:db8::5')).statusCode).toBe(200);
    expect((await post('{"update_id":3}', {}, '2001:db9::5')).statusCode).toBe(403);
    // X-Forwarded-For is ignored without WEBHOOK_TRUSTED_PROXIES: it can be forged.
    expect(
      (await post('{"update_id":4}', { 'x-forwarded-for': '149.154.167.220' }, '10.1.2.3')).statusCode,
    ).toBe(403);
  });

  it('checks in order: subnet (403), path (404), secret (401), size (413), body (400)', async () => {
    expect(
      (await post('not json', { 'x-telegram-bot-api-secret-token': 'wrong' }, '10.0.0.1')).statusCode,
    ).toBe(403);
    expect((await post('{"update_id":1}', {}, '149.154.167.220', '/unknown')).statusCode).toBe(404);
    const wrong = await post('not json', { 'x-telegram-bot-api-secret-token': 'wrong' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ statusCode: 401, message: expect.stringContaining('Secret-Token') });
    expect((await post('{"update_id":1}', { 'x-telegram-bot-api-secret-token': '' })).statusCode).toBe(401);
    const missing = await sut.app.inject({
      method: 'POST',
      url: '/telegram/hook',
      remoteAddress: '149.154.167.220',
      headers: { 'content-type': 'application/json' },
      payload: '{"update_id":1}',
    });
    expect(missing.statusCode).toBe(401);
    const huge = `{"update_id":1,"message":{"text":"${'x'.repeat(1024 * 1024)}"}}`;
    expect((await post(huge, { 'x-telegram-bot-api-secret-token': 'wrong' })).statusCode).toBe(401);
    const tooLarge = await post(huge);
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.json()).toMatchObject({ statusCode: 413, message: 'body exceeds 1 MiB' });
    expect(await redis.llen(queue)).toBe(0);
  });

  it.each([
    ['invalid JSON', '{"update_id":', 'body is not valid JSON'],
    ['an array', '[{"update_id":1}]', 'body must be a JSON object'],
    ['null', 'null', 'body must be a JSON object'],
    ['a number', '42', 'body must be a JSON object'],
    ['no update_id', '{"message":{}}', 'update_id must be an integer'],
    ['a string update_id', '{"update_id":"7"}', 'update_id must be an integer'],
    ['a fractional update_id', '{"update_id":7.5}', 'update_id must be an integer'],
    ['an empty body', '', 'body is empty'],
  ])('answers 400 with a short JSON reason for %s', async (_name, body, message) => {
    const response = await post(body);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ statusCode: 400, error: 'Bad Request', message });
    expect(await redis.llen(queue)).toBe(0);
  });

  it('accepts a body without a JSON content type (Telegram always sends one, proxies may not)', async () => {
    const response = await sut.app.inject({
      method: 'POST',
      url: '/telegram/hook',
      remoteAddress: '149.154.160.1',
      headers: { 'x-telegram-bot-api-secret-token': SECRET, 'content-type': 'text/plain' },
      payload: '{"update_id":77,"message":{}}',
    });
    expect(response.statusCode).toBe(200);
    expect(await redis.lrange(queue, 0, -1)).toEqual(['{"update_id":77,"message":{}}']);
  });

  it('serves readiness and liveness at /status without secrets', async () => {
    const ready = await sut.app.inject({ method: 'GET', url: '/status' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ok', details: { redis: { status: 'up' } } });
    expect(ready.body).not.toContain(TOKEN);
    expect(ready.body).not.toContain(SECRET);
    const live = await sut.app.inject({ method: 'GET', url: '/status/live' });
    expect(live.statusCode).toBe(200);
  });

  it('deletes the webhook at shutdown without dropping pending updates', async () => {
    await sut.close();
    const deletes = api.calls('deleteWebhook');
    expect(deletes).toHaveLength(1);
    expect(deletes[0]?.params.drop_pending_updates).toBe(false);
  });
});

describe('start-up against the Bot API', () => {
  let api: FakeBotApi;
  const base = (url: string): Record<string, string> => ({
    TELEGRAM_TOKEN: TOKEN,
    TELEGRAM_API_URL: url,
    WEBHOOK_DOMAIN: 'bot.example.com:8443',
    REDIS_URL,
    REDIS_QUEUE_NAME: `test:startup:${randomUUID()}`,
  });

  beforeEach(async () => {
    api = await FakeBotApi.start({ bots: [{ token: TOKEN, id: 111111, username: 'core_bot' }] });
  });
  afterEach(() => api.close());

  it('fails clearly on a rejected token, naming the bot and never the token', async () => {
    const other = await FakeBotApi.start({ bots: [] });
    try {
      const failure = await startApp(base(other.url)).then(
        () => new Error('started'),
        (error: unknown) => error as Error,
      );
      expect(failure.message).toContain('TELEGRAM_TOKEN');
      expect(failure.message).toContain('401');
      expect(failure.message).not.toContain(TOKEN);
      expect(failure.message).not.toContain(TOKEN.split(':')[1]);
    } finally {
      await other.close();
    }
  });

  it('honours 429 retry_after on setWebhook and retries network errors', async () => {
    api.failNext('setWebhook', {
      status: 429,
      description: 'Too Many Requests: retry after 1',
      retryAfter: 1,
    });
    api.dropNext('getMe', 2);
    const started = Date.now();
    const sut = await startApp(base(api.url));
    try {
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      const sets = api.calls('setWebhook');
      expect(sets).toHaveLength(2);
      expect(sets[1]!.at - sets[0]!.at).toBeGreaterThanOrEqual(900);
      expect(sets[1]?.params.url).toMatch(/^https:\/\/bot\.example\.com:8443\/[A-Za-z0-9_-]{43}$/);
    } finally {
      await sut.close();
    }
  });

  it('gives up on an unreachable Bot API after TELEGRAM_RETRY_TIMEOUT_MS', async () => {
    const failure = await startApp({
      ...base('http://127.0.0.1:9'),
      TELEGRAM_RETRY_TIMEOUT_MS: '1500',
    }).then(
      () => new Error('started'),
      (error: unknown) => error as Error,
    );
    expect(failure.message).toMatch(
      /getMe failed for the bot from TELEGRAM_TOKEN: getMe: TELEGRAM_API_URL http:\/\/127\.0\.0\.1:9 refused the connection$/,
    );
  });

  it('passes allowed_updates, drop_pending_updates and ip_address when set', async () => {
    const sut = await startApp({
      ...base(api.url),
      WEBHOOK_ALLOWED_UPDATES: 'message,callback_query',
      WEBHOOK_DROP_PENDING_UPDATES: 'true',
      WEBHOOK_IP_ADDRESS: '203.0.113.7',
      WEBHOOK_MAX_CONNECTIONS: '100',
      TELEGRAM_DELETE_WEBHOOK: 'false',
    });
    await sut.close();
    expect(api.calls('setWebhook')[0]?.params).toMatchObject({
      allowed_updates: ['message', 'callback_query'],
      drop_pending_updates: true,
      ip_address: '203.0.113.7',
      max_connections: 100,
    });
    expect(api.calls('deleteWebhook')).toHaveLength(0);
  });

  it('does not call setWebhook when TELEGRAM_SET_WEBHOOK=false, and serves no /status when disabled', async () => {
    const sut = await startApp({
      ...base(api.url),
      WEBHOOK_DOMAIN: '',
      TELEGRAM_SET_WEBHOOK: 'false',
      WEBHOOK_STATUS_ENDPOINT: 'false',
    });
    try {
      expect(api.calls('getMe')).toHaveLength(1);
      expect(api.calls('setWebhook')).toHaveLength(0);
      expect((await sut.app.inject({ method: 'GET', url: '/status' })).statusCode).toBe(404);
    } finally {
      await sut.close();
    }
  });
});
