/**
 * Redis pub/sub target (REDIS_PUBSUB=true), end to end with a plain ioredis subscriber. Lossy by
 * design: confirmed once Redis answered the PUBLISH. The outage runs against a private Redis.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { hookEnv, startApp, type TestApp } from './support/app.js';
import { startPrivateRedis } from './support/brokers.js';
import { FakeBotApi, realisticUpdate } from './support/fake-bot-api.js';
import { oddlyFormatted, postUpdate, readStatus } from './support/webhook-client.js';
import { brokerOutage } from './support/outage.js';
import { waitUntil } from './support/wait.js';

const SHARED_REDIS = 'redis://127.0.0.1:6379';
const TOKEN = '666001:AAH_redis-pubsub-test-bot';
const BOT_ID = 666001;
const SECRET = 'pubsub_secret';

function post(app: TestApp, body: string): Promise<Response> {
  return postUpdate(app, body, SECRET);
}

/** Subscribes to every channel under `prefix` and collects what arrives, as bytes. */
async function subscriber(
  url: string,
  prefix: string,
): Promise<{ received: Array<{ channel: string; body: Buffer }>; close(): void }> {
  const redis = new Redis(url);
  const received: Array<{ channel: string; body: Buffer }> = [];
  redis.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, body: Buffer) =>
    received.push({ channel: channel.toString(), body }),
  );
  await redis.psubscribe(`${prefix}.*`);
  return { received, close: () => redis.disconnect() };
}

describe('Redis pub/sub target', () => {
  let api: FakeBotApi;
  const apps: TestApp[] = [];
  const cleanup: Array<() => void | Promise<unknown>> = [];
  const boot = async (extra: Record<string, string>): Promise<TestApp> => {
    const app = await startApp(
      {
        ...hookEnv(api.url, TOKEN, SECRET),
        REDIS_PUBSUB: 'true',
        // Pub/sub only: no queue entries left behind on the shared Redis.
        REDIS_QUEUE: 'false',
        ...extra,
      },
      { listen: true },
    );
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [{ token: TOKEN, id: BOT_ID, username: 'pubsub_test_bot' }] });
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    for (const step of cleanup.splice(0)) await step();
  });
  afterAll(() => api.close());

  it('publishes the exact bytes on REDIS_PUBSUB_CHANNEL, and the envelope on request', async () => {
    const prefix = `tr-pubsub-${randomUUID()}`;
    const queueName = `tr-pubsub-${randomUUID()}`;
    const sub = await subscriber(SHARED_REDIS, prefix);
    cleanup.push(() => sub.close());
    const shared = new Redis(SHARED_REDIS);
    cleanup.push(async () => {
      const keys = await shared.keys(`${queueName}*`);
      if (keys.length > 0) await shared.del(...keys);
      shared.disconnect();
    });
    const env = {
      REDIS_URL: SHARED_REDIS,
      REDIS_QUEUE_NAME: queueName,
      REDIS_PUBSUB_CHANNEL: `${prefix}.{bot}.{type}`,
    };

    const app = await boot(env);
    expect((await readStatus(app)).body.error).toEqual({});
    const body = oddlyFormatted(8001);
    expect((await post(app, body)).status).toBe(200);
    await waitUntil(() => sub.received.length === 1, 2000);
    expect(sub.received[0]?.channel).toBe(`${prefix}.${BOT_ID}.message`);
    expect(sub.received[0]?.body.equals(Buffer.from(body))).toBe(true);
    await apps.pop()?.close();

    const envelopeApp = await boot({ ...env, PUBLISH_FORMAT: 'envelope' });
    const update = realisticUpdate(8002, { type: 'callback_query' });
    expect((await post(envelopeApp, JSON.stringify(update))).status).toBe(200);
    await waitUntil(() => sub.received.length === 2, 2000);
    expect(sub.received[1]?.channel).toBe(`${prefix}.${BOT_ID}.callback_query`);
    expect(JSON.parse(sub.received[1]?.body.toString() ?? '')).toMatchObject({
      bot: BOT_ID,
      update_id: 8002,
      type: 'callback_query',
      update,
    });
  });

  it('answers 503 + Retry-After while Redis is down (at boot or later), reports it at /status, and recovers without a restart', async () => {
    const redis = await startPrivateRedis();
    const prefix = 'telegram';
    let sub: Awaited<ReturnType<typeof subscriber>> | undefined;
    await brokerOutage({
      broker: redis,
      target: 'redis-pubsub',
      boot: (timeout) => boot({ REDIS_URL: redis.url, PUBLISH_TIMEOUT_MS: timeout }),
      post,
      onBack: async () => {
        if (!sub) {
          sub = await subscriber(redis.url, prefix);
          cleanup.push(() => sub?.close());
        }
        // The subscriber resubscribes by itself once Redis is back.
        await waitUntil(async () => {
          const probe = new Redis(redis.url);
          const listeners = (await probe.pubsub('NUMPAT')) as unknown as number;
          probe.disconnect();
          return listeners > 0;
        }, 5000);
      },
    });
    await waitUntil(() => sub?.received.length === 2, 2000);
    expect(
      sub?.received.map((m) => (JSON.parse(m.body.toString()) as { update_id: number }).update_id),
    ).toEqual([1, 2]);
    // The private Redis is stopped after the app closed (afterAll of support/brokers.ts): an ioredis
    // connection dropped while Redis is down keeps a reconnect timer for up to 2 s, delaying Jest's exit.
  }, 40_000);
});
