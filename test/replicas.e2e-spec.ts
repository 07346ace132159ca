import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { WebhookService } from '../src/webhook/webhook.service.js';
import { startApp, type TestApp } from './support/app.js';
import { FakeBotApi, realisticUpdate } from './support/fake-bot-api.js';
import { waitUntil } from './support/wait.js';

/** Several replicas of one deployment against one Bot API and one Redis. */
const TOKEN = '444444:AAH_replica-bot-token';
const BOT_ID = 444444;
const REDIS_URL = 'redis://127.0.0.1:6379';

describe('many replicas, one webhook', () => {
  let api: FakeBotApi;
  let redis: Redis;
  let queue: string;
  const apps: TestApp[] = [];

  beforeEach(async () => {
    api = await FakeBotApi.start({ bots: [{ token: TOKEN, id: BOT_ID, username: 'replica_bot' }] });
    redis = new Redis(REDIS_URL);
    queue = `test:replicas:${randomUUID()}`;
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    const keys = await redis.keys(`${queue}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await api.close();
  });

  const replica = async (extra: Record<string, string> = {}): Promise<TestApp> => {
    const app = await startApp({
      TELEGRAM_TOKEN: TOKEN,
      TELEGRAM_API_URL: api.url,
      WEBHOOK_DOMAIN: 'bot.example.com',
      REDIS_URL,
      REDIS_QUEUE_NAME: queue,
      ...extra,
    });
    apps.push(app);
    return app;
  };

  const post = (app: TestApp, id: number) => {
    const bot = app.config.bots[0]!;
    return app.app.inject({
      method: 'POST',
      url: `/${bot.endpoint}`,
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': bot.secret },
      payload: JSON.stringify(realisticUpdate(id)),
    });
  };

  it('derives the same URL and secret on every replica and calls setWebhook once', async () => {
    const a = await replica();
    const b = await replica();
    expect(b.config.bots[0]?.endpoint).toBe(a.config.bots[0]?.endpoint);
    expect(b.config.bots[0]?.secret).toBe(a.config.bots[0]?.secret);
    expect(api.calls('setWebhook')).toHaveLength(1);
    expect(api.calls('getWebhookInfo').length).toBeGreaterThanOrEqual(2);
    // Both serve the same webhook.
    expect((await post(a, 1)).statusCode).toBe(200);
    expect((await post(b, 2)).statusCode).toBe(200);
    expect(await redis.llen(queue)).toBe(2);
  });

  it('re-sets the webhook when its configuration changed, and always with WEBHOOK_FORCE_SET', async () => {
    const keep = { TELEGRAM_DELETE_WEBHOOK: 'false' };
    await (await replica(keep)).close();
    await (await replica({ ...keep, WEBHOOK_MAX_CONNECTIONS: '80' })).close();
    expect(api.calls('setWebhook')).toHaveLength(2);
    await (await replica({ ...keep, WEBHOOK_MAX_CONNECTIONS: '80' })).close();
    expect(api.calls('setWebhook')).toHaveLength(2);
    await (await replica({ ...keep, WEBHOOK_MAX_CONNECTIONS: '80', WEBHOOK_FORCE_SET: 'true' })).close();
    expect(api.calls('setWebhook')).toHaveLength(3);
  });

  it('a rolling restart never removes the webhook: only the last replica to stop deletes it', async () => {
    const a = await replica();
    const b = await replica();
    await a.close();
    expect(api.calls('deleteWebhook')).toHaveLength(0);
    expect(api.webhookInfo(TOKEN).url).toMatch(/^https:\/\/bot\.example\.com\//);
    expect((await post(b, 10)).statusCode).toBe(200);
    const c = await replica();
    await b.close();
    expect(api.calls('deleteWebhook')).toHaveLength(0);
    await c.close();
    expect(api.calls('deleteWebhook')).toHaveLength(1);
    expect(api.webhookInfo(TOKEN).url).toBe('');
  });

  it('the reconciler restores a webhook removed behind its back and exposes its info', async () => {
    const a = await replica({ WEBHOOK_RECONCILE_SECONDS: '1' });
    const expected = api.webhookInfo(TOKEN).url;
    await fetch(`${api.url}/bot${TOKEN}/deleteWebhook`, { method: 'POST' });
    expect(api.webhookInfo(TOKEN).url).toBe('');
    await api.waitFor(() => api.webhookInfo(TOKEN).url === expected, 5000);
    expect(api.calls('setWebhook')).toHaveLength(2);
    // The fake API holds the URL as soon as it handles setWebhook; the reconciler records it once
    // the answer is back.
    const status = () => a.app.inject({ method: 'GET', url: '/status' });
    type Status = { details?: { webhook?: { bots?: { registered?: boolean }[] } } };
    await waitUntil(
      async () => (await status()).json<Status>().details?.webhook?.bots?.[0]?.registered === true,
      5000,
    );
    expect((await status()).json()).toMatchObject({
      details: {
        webhook: { status: 'up', bots: [{ bot: BOT_ID, registered: true, pending_update_count: 0 }] },
      },
    });
    const metrics = (await a.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain(`telegram_receiver_webhook_registered{bot="${BOT_ID}"} 1`);
    expect(metrics).toContain(`telegram_receiver_webhook_pending_updates{bot="${BOT_ID}"} 0`);
  });

  it('reports a drifted webhook the reconciler cannot restore as degraded, still answering 200', async () => {
    const a = await replica({ WEBHOOK_RECONCILE_SECONDS: '1' });
    api.failNext('setWebhook', { status: 500, description: 'Internal Server Error', times: 1000 });
    await fetch(`${api.url}/bot${TOKEN}/deleteWebhook`, { method: 'POST' });
    const status = () => a.app.inject({ method: 'GET', url: '/status' });
    await waitUntil(async () => (await status()).json<{ status?: string }>().status === 'degraded', 5000);
    const answer = await status();
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({
      status: 'degraded',
      details: { webhook: { status: 'degraded', bots: [{ bot: BOT_ID, registered: false }] } },
    });
  });

  it('counts received, published, duplicate and rejected updates in /metrics', async () => {
    const a = await replica();
    expect((await post(a, 100)).statusCode).toBe(200);
    expect((await post(a, 100)).statusCode).toBe(200);
    expect((await post(a, 101)).statusCode).toBe(200);
    const bad = await a.app.inject({
      method: 'POST',
      url: `/${a.config.bots[0]!.endpoint}`,
      headers: { 'x-telegram-bot-api-secret-token': 'nope' },
      payload: '{}',
    });
    expect(bad.statusCode).toBe(401);
    const metrics = await a.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.headers['content-type']).toContain('text/plain');
    const text = metrics.body;
    expect(text).toContain(`telegram_receiver_updates_received_total{bot="${BOT_ID}",type="message"} 3`);
    expect(text).toContain(
      `telegram_receiver_updates_published_total{bot="${BOT_ID}",type="message",target="redis"} 2`,
    );
    expect(text).toContain(`telegram_receiver_updates_duplicate_total{bot="${BOT_ID}",type="message"} 1`);
    expect(text).toContain(`telegram_receiver_updates_rejected_total{bot="${BOT_ID}",reason="secret"} 1`);
    expect(text).toMatch(/telegram_receiver_publish_duration_seconds_count\{target="redis"\} 2/);
    expect(text).toContain('telegram_receiver_process_resident_memory_bytes');
  });

  it('turns readiness 503 and refuses new updates with Retry-After as soon as shutdown starts', async () => {
    const a = await replica();
    expect((await a.app.inject({ method: 'GET', url: '/status' })).statusCode).toBe(200);
    // The first shutdown step Nest runs (onModuleDestroy), before the HTTP server stops.
    a.app.get(WebhookService).onModuleDestroy();
    const status = await a.app.inject({ method: 'GET', url: '/status' });
    expect(status.statusCode).toBe(503);
    expect(status.json()).toMatchObject({
      error: { accepting: { status: 'down', reason: 'shutting down' } },
    });
    const refused = await post(a, 7);
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('3');
    expect(await redis.llen(queue)).toBe(0);
  });

  it('serves no /metrics when METRICS_ENABLED=false', async () => {
    const a = await replica({ METRICS_ENABLED: 'false' });
    expect((await a.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
  });
});
