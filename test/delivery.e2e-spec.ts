import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import mqtt from 'mqtt';
import type {
  InboundUpdate,
  PublisherHealth,
  PublishResult,
  UpdatePublisher,
} from '../src/publisher/publisher.interface.js';
import { RedisQueuePublisher } from '../src/publisher/targets/redis/redis-queue.publisher.js';
import { startApp, writeBotsFile, type TestApp } from './support/app.js';
import { startPrivateMosquitto, startPrivateRedis, type PrivateBroker } from './support/brokers.js';
import { FakeBotApi, realisticUpdate } from './support/fake-bot-api.js';
import { TelegramSender } from './support/telegram-sender.js';
import { waitUntil } from './support/wait.js';

const TOKEN = '222222:AAH_delivery-bot-token';
const BOT_ID = 222222;
const SECRET = 'delivery_secret';

/** 5,000 unique updates plus ~10% redeliveries of random ones, shuffled. */
function loadWithDuplicates(unique: number, firstId: number): Array<Record<string, unknown>> {
  const updates = Array.from({ length: unique }, (_, i) =>
    realisticUpdate(firstId + i, { chatId: 1000 + (i % 97) }),
  );
  const duplicates = Array.from({ length: Math.round(unique / 10) }, (_, i) => updates[(i * 7919) % unique]!);
  const all = [...updates, ...duplicates];
  for (let i = all.length - 1; i > 0; i--) {
    const j = (i * 2654435761) % (i + 1);
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all;
}

function idsOf(entries: string[]): number[] {
  return entries.map((e) => (JSON.parse(e) as { update_id: number }).update_id);
}

function expectExactlyOnce(ids: number[], firstId: number, unique: number): void {
  const counts = new Map<number, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  const missing = Array.from({ length: unique }, (_, i) => firstId + i).filter((id) => !counts.has(id));
  const doubled = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
  expect({ missing: missing.length, doubled: doubled.length, total: ids.length }).toEqual({
    missing: 0,
    doubled: 0,
    total: unique,
  });
}

/** A plug-in target that fails its first `failures` publishes, then succeeds. */
@Injectable()
class FlakyPublisher implements UpdatePublisher {
  static failures = 1;
  static attempts: number[] = [];
  static stored: number[] = [];
  readonly name = 'flaky';
  publish(update: InboundUpdate): Promise<PublishResult> {
    FlakyPublisher.attempts.push(update.updateId);
    if (FlakyPublisher.failures > 0) {
      FlakyPublisher.failures--;
      return Promise.reject(new Error('broker said no'));
    }
    FlakyPublisher.stored.push(update.updateId);
    return Promise.resolve('published');
  }
  health(): PublisherHealth {
    return { up: true };
  }
}

describe('delivery guarantees', () => {
  let api: FakeBotApi;

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [{ token: TOKEN, id: BOT_ID, username: 'delivery_bot' }] });
  });
  afterAll(() => api.close());

  const baseEnv = (): Record<string, string> => ({
    TELEGRAM_TOKEN: TOKEN,
    TELEGRAM_API_URL: api.url,
    WEBHOOK_DOMAIN: 'bot.example.com',
    WEBHOOK_ENDPOINT: 'hook',
    WEBHOOK_SECRET: SECRET,
    TELEGRAM_DELETE_WEBHOOK: 'false',
  });

  const post = (sut: TestApp, body: string, path = 'hook') =>
    sut.app.inject({
      method: 'POST',
      url: `/${path}`,
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
      payload: body,
    });

  describe('duplicates', () => {
    it('publishes an update POSTed 20 times concurrently once (Redis queue, atomic claim)', async () => {
      const queue = `test:dup:${randomUUID()}`;
      const redis = new Redis('redis://127.0.0.1:6379');
      const sut = await startApp({
        ...baseEnv(),
        REDIS_URL: 'redis://127.0.0.1:6379',
        REDIS_QUEUE_NAME: queue,
      });
      try {
        const body = JSON.stringify(realisticUpdate(777));
        const answers = await Promise.all(Array.from({ length: 20 }, () => post(sut, body)));
        expect(answers.map((a) => a.statusCode)).toEqual(Array(20).fill(200));
        expect(await redis.lrange(queue, 0, -1)).toEqual([body]);
        // A later redelivery is a duplicate too.
        expect((await post(sut, body)).statusCode).toBe(200);
        expect(await redis.llen(queue)).toBe(1);
        const metrics = await sut.app.inject({ method: 'GET', url: '/metrics' });
        expect(metrics.body).toContain(
          `telegram_receiver_updates_duplicate_total{bot="${BOT_ID}",type="message"} 20`,
        );
      } finally {
        await sut.close();
        await redis.del(queue, RedisQueuePublisher.dedupKey(queue, String(BOT_ID), 777));
        redis.disconnect();
      }
    });

    it('publishes an update POSTed 20 times concurrently once (MQTT, in-memory dedup)', async () => {
      const topicBase = `test/dup/${randomUUID()}`;
      const marker = `${topicBase}/marker`;
      const subscriber = await mqtt.connectAsync('mqtt://127.0.0.1:1883');
      const received: string[] = [];
      let markerSeen = false;
      subscriber.on('message', (topic, payload) => {
        if (topic === marker) markerSeen = true;
        else received.push(payload.toString());
      });
      await subscriber.subscribeAsync(`${topicBase}/#`, { qos: 1 });
      const sut = await startApp({
        ...baseEnv(),
        MQTT_URL: 'mqtt://127.0.0.1:1883',
        MQTT_TOPIC: `${topicBase}/{bot}/{type}`,
      });
      try {
        const body = JSON.stringify(realisticUpdate(778));
        const answers = await Promise.all(Array.from({ length: 20 }, () => post(sut, body)));
        expect(answers.map((a) => a.statusCode)).toEqual(Array(20).fill(200));
        // Every 200 came after the broker's PUBACK, so a second publish would be queued before this
        // marker: once it arrives, nothing else is on its way.
        await subscriber.publishAsync(marker, 'end', { qos: 1 });
        await waitUntil(() => markerSeen);
        expect(received).toEqual([body]);
      } finally {
        await sut.close();
        await subscriber.endAsync();
      }
    });
  });

  describe('a failed publish is never marked seen', () => {
    it('publishes the retry after a failure (service-side dedup)', async () => {
      FlakyPublisher.failures = 1;
      FlakyPublisher.attempts = [];
      FlakyPublisher.stored = [];
      const sut = await startApp(baseEnv(), { publishers: [FlakyPublisher] });
      try {
        const body = JSON.stringify(realisticUpdate(31337));
        const first = await post(sut, body);
        expect(first.statusCode).toBe(503);
        expect(first.headers['retry-after']).toBeDefined();
        expect((await post(sut, body)).statusCode).toBe(200);
        expect((await post(sut, body)).statusCode).toBe(200);
        expect(FlakyPublisher.attempts).toEqual([31337, 31337]);
        expect(FlakyPublisher.stored).toEqual([31337]);
      } finally {
        await sut.close();
      }
    });

    it('pushes the retry after Redis was down (atomic claim and enqueue)', async () => {
      const redis = await startPrivateRedis({ persistent: true });
      const client = new Redis(redis.url);
      const sut = await startApp({
        ...baseEnv(),
        REDIS_URL: redis.url,
        REDIS_QUEUE_NAME: 'q',
        PUBLISH_TIMEOUT_MS: '1000',
      });
      try {
        const body = JSON.stringify(realisticUpdate(4242));
        client.disconnect();
        await redis.stop();
        const started = Date.now();
        const down = await post(sut, body);
        expect(down.statusCode).toBe(503);
        expect(down.headers['retry-after']).toBe('3');
        expect(Date.now() - started).toBeLessThan(1000 + 2000); // PUBLISH_TIMEOUT_MS, and room for a busy machine
        const status = await sut.app.inject({ method: 'GET', url: '/status' });
        expect(status.statusCode).toBe(503);
        expect(status.json()).toMatchObject({ error: { redis: { status: 'down' } } });
        await redis.start();
        await waitUntil(
          async () => (await sut.app.inject({ method: 'GET', url: '/status' })).statusCode === 200,
        );
        expect((await post(sut, body)).statusCode).toBe(200);
        const check = new Redis(redis.url);
        expect(await check.lrange('q', 0, -1)).toEqual([body]);
        check.disconnect();
      } finally {
        await sut.close();
        await redis.stop();
      }
    });
  });

  describe('batched Redis writes', () => {
    it('fails only the updates whose queue refused them, unclaimed; the rest of the batch is stored', async () => {
      const queue = `test:batch:${randomUUID()}`;
      const brokenQueue = `${queue}:broken`;
      const OTHER = { token: '222223:AAH_other-delivery-bot', id: 222223 };
      const file = writeBotsFile(
        JSON.stringify({
          bots: [
            { token: TOKEN, endpoint: 'hook', secret: SECRET },
            { token: OTHER.token, endpoint: 'broken', secret: SECRET, redis_queue: brokenQueue },
          ],
        }),
        'bots.json',
      );
      const both = await FakeBotApi.start({
        bots: [
          { token: TOKEN, id: BOT_ID, username: 'delivery_bot' },
          { token: OTHER.token, id: OTHER.id, username: 'other_bot' },
        ],
      });
      const redis = new Redis('redis://127.0.0.1:6379');
      // A key of the wrong type: every push to it fails (WRONGTYPE).
      await redis.set(brokenQueue, 'not a list');
      const sut = await startApp({
        BOTS_FILE: file,
        TELEGRAM_API_URL: both.url,
        WEBHOOK_DOMAIN: 'bot.example.com',
        TELEGRAM_SET_WEBHOOK: 'false',
        REDIS_URL: 'redis://127.0.0.1:6379',
        REDIS_QUEUE_NAME: queue,
      });
      try {
        const good = Array.from({ length: 30 }, (_, i) => JSON.stringify(realisticUpdate(500 + i)));
        const bad = Array.from({ length: 10 }, (_, i) => JSON.stringify(realisticUpdate(900 + i)));
        // Sent together, so they share script calls.
        const answers = await Promise.all([
          ...good.map((b) => post(sut, b)),
          ...bad.map((b) => post(sut, b, 'broken')),
        ]);
        expect(answers.slice(0, 30).map((a) => a.statusCode)).toEqual(Array(30).fill(200));
        expect(answers.slice(30).map((a) => a.statusCode)).toEqual(Array(10).fill(503));
        expect(await redis.lrange(queue, 0, -1)).toEqual(good);
        // Not claimed: once the queue is usable, Telegram's retries are stored.
        await redis.del(brokenQueue);
        const retries = await Promise.all(bad.map((b) => post(sut, b, 'broken')));
        expect(retries.map((a) => a.statusCode)).toEqual(Array(10).fill(200));
        expect(await redis.lrange(brokenQueue, 0, -1)).toEqual(bad);
      } finally {
        await sut.close();
        await both.close();
        const claims = await redis.keys(`${queue}*`);
        if (claims.length > 0) await redis.del(...claims);
        redis.disconnect();
      }
    });
  });

  describe('outages under load', () => {
    let redis: PrivateBroker;
    afterEach(() => redis?.stop());

    it('Redis stopped and restarted mid-run: each update_id on the queue exactly once', async () => {
      redis = await startPrivateRedis({ persistent: true });
      const sut = await startApp(
        { ...baseEnv(), REDIS_URL: redis.url, REDIS_QUEUE_NAME: 'load', PUBLISH_TIMEOUT_MS: '1000' },
        { listen: true },
      );
      const sender = new TelegramSender({
        url: `${sut.url}/hook`,
        secret: SECRET,
        maxBackoffMs: 500,
        deadlineMs: 50_000,
      });
      try {
        const updates = loadWithDuplicates(5000, 1_000_000);
        const run = sender.send(updates);
        const check = new Redis(redis.url);
        // Mid-run by progress, not by the clock: stopped once a tenth is queued, restarted once every
        // one of the sender's 40 connections was refused twice on average.
        await waitUntil(async () => (await check.llen('load')) >= 500, 20_000, 10);
        check.disconnect();
        await redis.stop();
        await waitUntil(() => (sender.answered[503] ?? 0) >= 80, 20_000, 10);
        await redis.start();
        const result = await run;
        expect(result.failed).toEqual([]);
        expect(result.statusCounts[503]).toBeGreaterThan(0);
        const reader = new Redis(redis.url);
        const stored = await reader.lrange('load', 0, -1);
        reader.disconnect();
        expectExactlyOnce(idsOf(stored), 1_000_000, 5000);
      } finally {
        await sender.close();
        await sut.close();
      }
    });

    it('MQTT broker stopped and restarted mid-run: a persistent subscriber gets every update, each once but for publishes in flight at the crash (Redis dedup)', async () => {
      const mosquitto = await startPrivateMosquitto({ persistent: true });
      const queue = `test:mqtt-load:${randomUUID()}`;
      // update_id → deliveries; the broker's own QoS 1 redeliveries to the subscriber carry DUP.
      const fresh = new Map<number, number>();
      const all = new Set<number>();
      const subscriber = await mqtt.connectAsync(mosquitto.url, {
        clientId: `sub-${randomUUID().slice(0, 8)}`,
        clean: false,
        reconnectPeriod: 200,
      });
      subscriber.on('message', (_topic, payload, packet) => {
        const id = (JSON.parse(payload.toString()) as { update_id: number }).update_id;
        all.add(id);
        if (!packet.dup) fresh.set(id, (fresh.get(id) ?? 0) + 1);
      });
      await subscriber.subscribeAsync('load/#', { qos: 1 });
      const sut = await startApp(
        {
          ...baseEnv(),
          MQTT_URL: mosquitto.url,
          MQTT_TOPIC: 'load/{bot}/{type}',
          REDIS_URL: 'redis://127.0.0.1:6379',
          REDIS_QUEUE: 'false',
          REDIS_QUEUE_NAME: queue,
          PUBLISH_TIMEOUT_MS: '1000',
        },
        { listen: true },
      );
      const sender = new TelegramSender({
        url: `${sut.url}/hook`,
        secret: SECRET,
        maxBackoffMs: 500,
        deadlineMs: 50_000,
      });
      const firstId = 2_000_000;
      try {
        const run = sender.send(loadWithDuplicates(5000, firstId));
        // Mid-run by progress, not by the clock: stopped once a tenth has reached the subscriber,
        // restarted once every one of the sender's 40 connections was refused twice on average.
        await waitUntil(() => all.size >= 500, 20_000, 10);
        await mosquitto.stop();
        await waitUntil(() => (sender.answered[503] ?? 0) >= 80, 20_000, 10);
        await mosquitto.start();
        const result = await run;
        expect(result.failed).toEqual([]);
        expect(result.statusCounts[503]).toBeGreaterThan(0);
        // At least once: every update reaches the subscriber.
        await waitUntil(() => all.size >= 5000, 20_000);
        // Every update was acked after its PUBACK: a marker sent now arrives after any late copy.
        await subscriber.publishAsync('load/marker', '{"update_id":0}', { qos: 1 });
        await waitUntil(() => all.has(0), 20_000);
        all.delete(0);
        fresh.delete(0);
        expect(all.size).toBe(5000);
        // Once, but for the one edge MQTT QoS 1 cannot close: a publish the broker stored just as it
        // died, whose PUBACK was lost, is sent again (by the client on reconnect, or after Telegram's
        // retry). Only publishes in flight at that instant can be hit: at most the sender's 40
        // connections. Everything else arrives exactly once (a second publish would carry no DUP).
        const doubled = [...fresh.values()].filter((n) => n > 1).length;
        expect(doubled).toBeLessThanOrEqual(40);
      } finally {
        await sender.close();
        await sut.close();
        await subscriber.endAsync(true);
        await mosquitto.stop();
        const cleanup = new Redis('redis://127.0.0.1:6379');
        const keys = await cleanup.keys(`${queue}:*`);
        if (keys.length > 0) await cleanup.del(...keys);
        cleanup.disconnect();
      }
    });
  });
});
