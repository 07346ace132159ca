/**
 * The examples in examples/consumer, end to end: an update goes in through the webhook, a worker
 * consumes it from a broker, and its answer comes out at the (fake) Bot API.
 */
import { randomUUID } from 'node:crypto';
import type { INestMicroservice } from '@nestjs/common';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import mqtt from 'mqtt';
import { startNestWorker, type NestWorkerOptions } from '../examples/consumer/nest/worker.js';
import type { ReceivedUpdate } from '../examples/consumer/telegram.js';
import { start, type Worker } from '../examples/consumer/worker.js';
import { startApp, writeBotsFile, type TestApp } from './support/app.js';
import { FakeBotApi, realisticUpdate } from './support/fake-bot-api.js';
import { waitUntil } from './support/wait.js';

const SHARED_REDIS = 'redis://127.0.0.1:6379';
const SHARED_MQTT = 'mqtt://127.0.0.1:1883';
const SHARED_AMQP = 'amqp://guest:guest@127.0.0.1:5672';
const SHARED_NATS = 'nats://127.0.0.1:4222';
const STREAM_BOT = { token: '777001:AAH_consumer-stream-bot', id: 777001, username: 'stream_worker_bot' };
const MQTT_BOT = { token: '777002:AAH_consumer-mqtt-bot', id: 777002, username: 'mqtt_worker_bot' };

function post(app: TestApp, endpoint: string, update: object): Promise<Response> {
  return fetch(`${app.url}/${endpoint}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': `${endpoint}_secret` },
    body: JSON.stringify(update),
  });
}

describe('examples/consumer worker (ioredis + mqtt)', () => {
  let api: FakeBotApi;
  let app: TestApp;
  let worker: Worker | undefined;
  const stream = `tr-consumer-${randomUUID()}`;
  const topicPrefix = `tr-consumer-${randomUUID().slice(0, 8)}`;
  const clientId = `tr-consumer-${randomUUID().slice(0, 8)}`;
  const redis = new Redis(SHARED_REDIS);

  const startWorker = (): Promise<Worker> =>
    start({
      tokens: [STREAM_BOT.token, MQTT_BOT.token],
      telegramApiUrl: api.url,
      redis: {
        url: SHARED_REDIS,
        stream,
        group: 'workers',
        consumer: 'worker-1',
        claimIdleMs: 300,
        blockMs: 100,
      },
      mqtt: { url: SHARED_MQTT, topicPrefix, clientId },
      log: () => undefined,
    });

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [STREAM_BOT, MQTT_BOT] });
    // One bot's updates go to the Redis stream only, the other's to MQTT only: each reply proves one path.
    const file = writeBotsFile(
      [
        `- token: "${STREAM_BOT.token}"`,
        '  endpoint: stream',
        '  secret: stream_secret',
        '  routes: { mqtt: none }',
        `- token: "${MQTT_BOT.token}"`,
        '  endpoint: mqtt',
        '  secret: mqtt_secret',
        '  routes: { redis: none }',
      ].join('\n'),
    );
    app = await startApp(
      {
        BOTS_FILE: file,
        TELEGRAM_API_URL: api.url,
        TELEGRAM_SET_WEBHOOK: 'false',
        TELEGRAM_DELETE_WEBHOOK: 'false',
        REDIS_URL: SHARED_REDIS,
        REDIS_QUEUE_MODE: 'stream',
        REDIS_QUEUE_NAME: stream,
        MQTT_URL: SHARED_MQTT,
        MQTT_TOPIC: `${topicPrefix}/{bot}/{type}`,
      },
      { listen: true },
    );
  });
  afterAll(async () => {
    await worker?.close();
    await app.close();
    await api.close();
    const keys = await redis.keys(`${stream}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    // Drop the worker's persistent session from the shared broker.
    const cleaner = await mqtt.connectAsync(SHARED_MQTT, { clientId, clean: true });
    await cleaner.endAsync();
  });

  it('answers what was queued before it started, then each new text message from the stream and from MQTT', async () => {
    // Queued while no worker runs: the consumer group starts from the beginning of the stream.
    expect(
      (await post(app, 'stream', realisticUpdate(101, { chatId: 5001, text: 'early bird' }))).status,
    ).toBe(200);
    worker = await startWorker();
    await api.waitFor(() => api.sentMessages().length === 1, 5000);

    expect(
      (await post(app, 'stream', realisticUpdate(102, { chatId: 5002, text: 'via redis' }))).status,
    ).toBe(200);
    expect((await post(app, 'mqtt', realisticUpdate(103, { chatId: 5003, text: 'via mqtt' }))).status).toBe(
      200,
    );
    // Not a text message: consumed, not answered.
    expect((await post(app, 'stream', realisticUpdate(104, { type: 'callback_query' }))).status).toBe(200);
    await api.waitFor(() => api.sentMessages().length === 3, 5000);
    // The worker reads the stream in order: once this later text is answered, the callback_query
    // before it has been consumed too, so a reply to it would already be here.
    expect((await post(app, 'stream', realisticUpdate(105, { chatId: 5005, text: 'last' }))).status).toBe(
      200,
    );
    await api.waitFor(() => api.sentMessages().length >= 4, 5000);

    expect(api.sentMessages()).toEqual([
      { token: STREAM_BOT.token, chat_id: 5001, text: 'You said: early bird' },
      { token: STREAM_BOT.token, chat_id: 5002, text: 'You said: via redis' },
      { token: MQTT_BOT.token, chat_id: 5003, text: 'You said: via mqtt' },
      { token: STREAM_BOT.token, chat_id: 5005, text: 'You said: last' },
    ]);
    // Every stream entry is acknowledged (after its answer): nothing is left pending in the group.
    const pending = async (): Promise<number> =>
      ((await redis.xpending(stream, 'workers')) as [number, ...unknown[]])[0];
    await waitUntil(async () => (await pending()) === 0, 5000);
  });

  it('keeps an entry it could not answer and answers it once the Bot API works again', async () => {
    const before = api.sentMessages().length;
    api.failNext('sendMessage', { status: 502, description: 'Bad Gateway', times: 2 });
    expect((await post(app, 'stream', realisticUpdate(201, { chatId: 6001, text: 'retry me' }))).status).toBe(
      200,
    );
    expect(
      (await post(app, 'mqtt', realisticUpdate(202, { chatId: 6002, text: 'retry me too' }))).status,
    ).toBe(200);
    await api.waitFor(() => api.sentMessages().length === before + 2, 10_000);
    expect(api.calls('sendMessage').length).toBeGreaterThanOrEqual(before + 4);
    expect(api.sentMessages().slice(before)).toEqual(
      expect.arrayContaining([
        { token: STREAM_BOT.token, chat_id: 6001, text: 'You said: retry me' },
        { token: MQTT_BOT.token, chat_id: 6002, text: 'You said: retry me too' },
      ]),
    );
  });
});

describe('examples/consumer/nest worker (@EventPattern, either payload format)', () => {
  const BOT = { token: '777003:AAH_consumer-nest-bot', id: 777003, username: 'nest_worker_bot' };
  let api: FakeBotApi;

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [BOT] });
  });
  afterAll(() => api.close());

  /**
   * Runs the receiver (raw, then envelope) against a Nest worker on one transport and returns what
   * the worker's handler got. The worker's NATS/Redis pattern is the fixed `telegram.*.message`:
   * other tests' updates on it are filtered out by bot id.
   */
  async function roundTrip(
    worker: NestWorkerOptions,
    receiverEnv: Record<string, string>,
  ): Promise<{ received: ReceivedUpdate[]; sent: object[] }> {
    const received: ReceivedUpdate[] = [];
    const sent: object[] = [];
    const app: INestMicroservice = await startNestWorker(worker, (update) => {
      if (update.bot === BOT.id) received.push(update);
      return Promise.resolve();
    });
    try {
      for (const [format, updateId] of [
        ['raw', 301],
        ['envelope', 302],
      ] as const) {
        const receiver = await startApp(
          {
            TELEGRAM_TOKEN: BOT.token,
            TELEGRAM_API_URL: api.url,
            TELEGRAM_SET_WEBHOOK: 'false',
            TELEGRAM_DELETE_WEBHOOK: 'false',
            WEBHOOK_ENDPOINT: 'nest',
            WEBHOOK_SECRET: 'nest_secret',
            PUBLISH_FORMAT: format,
            ...receiverEnv,
          },
          { listen: true },
        );
        try {
          const update = realisticUpdate(updateId, { chatId: 42, text: format });
          sent.push(update);
          expect((await post(receiver, 'nest', update)).status).toBe(200);
          await waitUntil(() => received.length === (format === 'raw' ? 1 : 2), 5000);
        } finally {
          await receiver.close();
        }
      }
    } finally {
      await app.close();
    }
    return { received, sent };
  }

  /** Both formats arrive as the same ReceivedUpdate; only the envelope tells when it was received. */
  function expectBothFormats({ received, sent }: { received: ReceivedUpdate[]; sent: object[] }): void {
    expect(received).toEqual([
      { bot: BOT.id, type: 'message', update: sent[0] },
      { bot: BOT.id, type: 'message', update: sent[1], receivedAt: expect.any(Number) },
    ]);
  }

  it('consumes from a durable RabbitMQ queue bound to the exchange', async () => {
    const exchange = `tr-consumer-${randomUUID()}`;
    const queue = `tr-consumer-${randomUUID()}`;
    try {
      expectBothFormats(
        await roundTrip(
          { transport: 'rmq', url: SHARED_AMQP, exchange, queue },
          { AMQP_URL: SHARED_AMQP, AMQP_EXCHANGE: exchange },
        ),
      );
    } finally {
      const connection = await amqp.connect(SHARED_AMQP);
      const channel = await connection.createChannel();
      await channel.deleteQueue(queue);
      await channel.deleteExchange(exchange);
      await connection.close();
    }
  });

  it('consumes from NATS', async () => {
    const result = await roundTrip(
      { transport: 'nats', url: SHARED_NATS },
      { NATS_URL: SHARED_NATS, NATS_JETSTREAM: 'false' },
    );
    expectBothFormats(result);
  });

  it('consumes from Redis pub/sub', async () => {
    // Names the receiver's dedup keys on the shared Redis, removed afterwards.
    const keyPrefix = `tr-consumer-${randomUUID()}`;
    const redis = new Redis(SHARED_REDIS);
    try {
      expectBothFormats(
        await roundTrip(
          { transport: 'redis', url: SHARED_REDIS },
          {
            REDIS_URL: SHARED_REDIS,
            REDIS_QUEUE: 'false',
            REDIS_PUBSUB: 'true',
            REDIS_QUEUE_NAME: keyPrefix,
          },
        ),
      );
    } finally {
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });
});
