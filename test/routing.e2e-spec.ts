/**
 * Routing: per-target type filters (`*_TYPES`) and per-bot `routes` in BOTS_FILE, checked on the
 * real brokers each update should (and should not) reach; and the rule that Telegram gets its 200
 * only once every target an update was routed to confirmed it.
 */
import { Injectable, type Type } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { Redis } from 'ioredis';
import type {
  InboundUpdate,
  PublisherHealth,
  PublishResult,
  UpdatePublisher,
} from '../src/publisher/publisher.interface.js';
import { startApp, writeBotsFile, type TestApp } from './support/app.js';
import { FakeBotApi, realisticUpdate, type RealisticUpdateKind } from './support/fake-bot-api.js';

const SHARED_AMQP = 'amqp://guest:guest@127.0.0.1:5672';
const SHARED_REDIS = 'redis://127.0.0.1:6379';
const SHOP = { token: '888001:AAH_routing-shop-bot', id: 888001, username: 'routing_shop_bot' };
const CHAT = { token: '888002:AAH_routing-chat-bot', id: 888002, username: 'routing_chat_bot' };

/** A payments ledger a team plugs in; it only takes payment updates and can be made to fail. */
@Injectable()
class LedgerPublisher implements UpdatePublisher {
  static failing = false;
  static stored: number[] = [];
  readonly name = 'ledger';
  readonly types = new Set(['pre_checkout_query', 'shipping_query']);
  publish(update: InboundUpdate): Promise<PublishResult> {
    if (LedgerPublisher.failing) return Promise.reject(new Error('ledger database is read-only'));
    LedgerPublisher.stored.push(update.updateId);
    return Promise.resolve('published');
  }
  health(): PublisherHealth {
    return { up: true };
  }
}

describe('routing', () => {
  let api: FakeBotApi;
  let redis: Redis;
  let connection: ChannelModel;
  let channel: Channel;
  const apps: TestApp[] = [];
  const exchanges: string[] = [];
  const queues: string[] = [];

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [SHOP, CHAT] });
    redis = new Redis(SHARED_REDIS);
    connection = await amqp.connect(SHARED_AMQP);
    channel = await connection.createChannel();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  afterAll(async () => {
    for (const exchange of exchanges) await channel.deleteExchange(exchange);
    for (const queue of queues) {
      const keys = await redis.keys(`${queue}*`);
      if (keys.length > 0) await redis.del(...keys);
    }
    await connection.close();
    redis.disconnect();
    await api.close();
  });

  /** An app with the Redis queue and RabbitMQ on unique names, and a queue bound to the exchange. */
  async function boot(
    env: Record<string, string>,
    publishers: Array<Type<UpdatePublisher>> = [],
  ): Promise<{ app: TestApp; redisQueue: string; amqpQueue: string }> {
    const exchange = `tr-routing-${randomUUID()}`;
    const redisQueue = `tr-routing-${randomUUID()}`;
    exchanges.push(exchange);
    queues.push(redisQueue);
    const app = await startApp(
      {
        TELEGRAM_API_URL: api.url,
        TELEGRAM_SET_WEBHOOK: 'false',
        TELEGRAM_DELETE_WEBHOOK: 'false',
        REDIS_URL: SHARED_REDIS,
        REDIS_QUEUE_NAME: redisQueue,
        AMQP_URL: SHARED_AMQP,
        AMQP_EXCHANGE: exchange,
        ...env,
      },
      { listen: true, publishers },
    );
    apps.push(app);
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, exchange, '#');
    return { app, redisQueue, amqpQueue: queue };
  }

  const post = (
    app: TestApp,
    endpoint: string,
    updateId: number,
    type: RealisticUpdateKind,
  ): Promise<Response> =>
    fetch(`${app.url}/${endpoint}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-telegram-bot-api-secret-token': `${endpoint}_secret`,
      },
      body: JSON.stringify(realisticUpdate(updateId, { type })),
    });

  async function inRedis(queue: string): Promise<number[]> {
    return (await redis.lrange(queue, 0, -1)).map(
      (entry) => (JSON.parse(entry) as { update_id: number }).update_id,
    );
  }

  async function inAmqp(queue: string): Promise<string[]> {
    const keys: string[] = [];
    for (
      let m = await channel.get(queue, { noAck: true });
      m;
      m = await channel.get(queue, { noAck: true })
    ) {
      keys.push(
        `${m.fields.routingKey}#${(JSON.parse(m.content.toString()) as { update_id: number }).update_id}`,
      );
    }
    return keys;
  }

  it('sends each kind only to the targets whose *_TYPES filter takes it', async () => {
    const { app, redisQueue, amqpQueue } = await boot({
      TELEGRAM_TOKEN: SHOP.token,
      WEBHOOK_ENDPOINT: 'shop',
      WEBHOOK_SECRET: 'shop_secret',
      REDIS_TYPES: 'message,callback_query',
      AMQP_TYPES: 'pre_checkout_query,shipping_query',
    });
    expect((await post(app, 'shop', 1, 'message')).status).toBe(200);
    expect((await post(app, 'shop', 2, 'pre_checkout_query')).status).toBe(200);
    expect((await post(app, 'shop', 3, 'callback_query')).status).toBe(200);
    expect((await post(app, 'shop', 4, 'shipping_query')).status).toBe(200);
    // A kind no target takes is dropped with a 200: nothing was asked to hold it.
    expect((await post(app, 'shop', 5, 'inline_query')).status).toBe(200);

    expect(await inRedis(redisQueue)).toEqual([1, 3]);
    expect(await inAmqp(amqpQueue)).toEqual([
      `${SHOP.id}.pre_checkout_query#2`,
      `${SHOP.id}.shipping_query#4`,
    ]);
  });

  it('answers 200 only when every target the update was routed to confirmed it', async () => {
    LedgerPublisher.failing = true;
    LedgerPublisher.stored = [];
    const { app, redisQueue, amqpQueue } = await boot(
      {
        TELEGRAM_TOKEN: SHOP.token,
        WEBHOOK_ENDPOINT: 'shop',
        WEBHOOK_SECRET: 'shop_secret',
        REDIS_TYPES: 'message',
        AMQP_TYPES: 'pre_checkout_query',
      },
      [LedgerPublisher],
    );
    // The failing ledger is not a target of messages: Redis confirmed, so 200.
    expect((await post(app, 'shop', 11, 'message')).status).toBe(200);
    // RabbitMQ confirmed the payment but the ledger did not: 503, and Telegram will resend it.
    const refused = await post(app, 'shop', 12, 'pre_checkout_query');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);

    LedgerPublisher.failing = false;
    expect((await post(app, 'shop', 12, 'pre_checkout_query')).status).toBe(200);
    expect(LedgerPublisher.stored).toEqual([12]);
    expect(await inRedis(redisQueue)).toEqual([11]);
    // At least once: the first attempt's copy is on RabbitMQ too.
    expect(await inAmqp(amqpQueue)).toEqual([
      `${SHOP.id}.pre_checkout_query#12`,
      `${SHOP.id}.pre_checkout_query#12`,
    ]);
  });

  it("applies each bot's BOTS_FILE routes over the global filters", async () => {
    const file = writeBotsFile(
      [
        'bots:',
        `  - token: "${SHOP.token}"`,
        '    endpoint: shop',
        '    secret: shop_secret',
        '    routes:',
        '      amqp: [pre_checkout_query, message]',
        '      redis: none',
        `  - token: "${CHAT.token}"`,
        '    endpoint: chat',
        '    secret: chat_secret',
        '    routes: { amqp: none }',
      ].join('\n'),
    );
    const { app, redisQueue, amqpQueue } = await boot({ BOTS_FILE: file, AMQP_TYPES: 'shipping_query' });
    expect((await post(app, 'shop', 21, 'message')).status).toBe(200);
    expect((await post(app, 'shop', 22, 'pre_checkout_query')).status).toBe(200);
    expect((await post(app, 'shop', 23, 'callback_query')).status).toBe(200);
    expect((await post(app, 'chat', 24, 'message')).status).toBe(200);
    expect((await post(app, 'chat', 25, 'shipping_query')).status).toBe(200);

    // The shop bot: only RabbitMQ, for the two kinds its routes name (not AMQP_TYPES).
    expect(await inAmqp(amqpQueue)).toEqual([`${SHOP.id}.message#21`, `${SHOP.id}.pre_checkout_query#22`]);
    // The chat bot: never RabbitMQ, and the Redis queue (no REDIS_TYPES) takes every kind.
    expect(await inRedis(redisQueue)).toEqual([24, 25]);
  });

  it('refuses to start when a bot routes to a target that is not in use', async () => {
    const file = writeBotsFile(`- token: "${SHOP.token}"\n  routes: { kafka: all, ledger: none }\n`);
    // Only a plug-in target, so the failed boot leaves no broker connection behind in this process.
    await expect(
      startApp(
        { TELEGRAM_API_URL: api.url, TELEGRAM_SET_WEBHOOK: 'false', BOTS_FILE: file },
        { publishers: [LedgerPublisher] },
      ),
    ).rejects.toThrow(
      /BOTS_FILE entry 1: routes names target\(s\) kafka that are not in use; targets in use: ledger/,
    );
  });
});
