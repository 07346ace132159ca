/**
 * What dedup costs at volume: 1,000,000 updates through the real publishing path (the Redis
 * queue's batched claim-and-push script, on the service's own connection) into a private Redis, and through the in-memory store, with Redis'
 * `used_memory` and the heap measured before and after. Before bitmaps this was ~141 bytes of
 * Redis per update (one key per update for DEDUP_TTL_SECONDS) and ~100 bytes of heap.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Redis } from 'ioredis';
import type { BotIdentity } from '../src/bots/bot.js';
import { MemoryDedupStore } from '../src/publisher/dedup.store.js';
import type { InboundUpdate, PublishResult } from '../src/publisher/publisher.interface.js';
import { RedisQueuePublisher } from '../src/publisher/targets/redis/redis-queue.publisher.js';
import { startApp } from './support/app.js';
import { startPrivateRedis, type PrivateBroker } from './support/brokers.js';
import { FakeBotApi } from './support/fake-bot-api.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const TOKEN = '620001:AAH_memory-bot-token';
const QUEUE = 'memory';

/** A deterministic random number generator (LCG), so a failure can be replayed. */
function lcg(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
}

interface Load {
  /** (bot index, update_id) in sending order, duplicates included. */
  readonly bots: Uint16Array;
  readonly ids: Float64Array;
  readonly unique: number;
}

/**
 * `perBot` sequential ids for each of `bots` bots, each bot from a random start below 2^31,
 * interleaved round-robin; after an update, with probability `duplicates`, a copy of one of that
 * bot's last 1,000 ids (a redelivery) — always of one sent before it.
 */
function makeLoad(bots: number, perBot: number, duplicates: number): Load {
  const random = lcg(bots * 7919 + perBot);
  const starts = Array.from({ length: bots }, () => random(2 ** 31 - perBot));
  const total = Math.ceil(bots * perBot * (1 + duplicates * 1.2));
  const botOf = new Uint16Array(total);
  const idOf = new Float64Array(total);
  let n = 0;
  for (let i = 0; i < perBot; i++) {
    for (let b = 0; b < bots; b++) {
      botOf[n] = b;
      idOf[n++] = (starts[b] as number) + i;
      if (random(1_000_000) < duplicates * 1_000_000) {
        botOf[n] = b;
        idOf[n++] = (starts[b] as number) + i - random(Math.min(i + 1, 1000));
      }
    }
  }
  return { bots: botOf.subarray(0, n), ids: idOf.subarray(0, n), unique: bots * perBot };
}

function identities(count: number): BotIdentity[] {
  return Array.from({ length: count }, (_, i) => ({
    index: i + 1,
    id: 900_000 + i,
    idText: String(900_000 + i),
    label: `bot ${i}`,
  }));
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

function heapBytes(): number {
  gc();
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

describe('dedup memory at volume', () => {
  let api: FakeBotApi;
  let broker: PrivateBroker;
  let redis: Redis;

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [{ token: TOKEN, id: 620001, username: 'memory_bot' }] });
    broker = await startPrivateRedis();
    redis = new Redis(broker.url);
  });
  afterAll(async () => {
    redis.disconnect();
    await broker.stop();
    await api.close();
  });

  /**
   * Publishes the load through the Redis queue (its script claims each update's bit and pushes
   * it); returns the Redis memory left once the queue itself is deleted — dedup's — and
   * checks exactly-once on the queue.
   */
  async function throughRedis(load: Load, botCount: number): Promise<number> {
    await redis.flushall();
    const sut = await startApp({
      TELEGRAM_TOKEN: TOKEN,
      TELEGRAM_API_URL: api.url,
      TELEGRAM_SET_WEBHOOK: 'false',
      TELEGRAM_DELETE_WEBHOOK: 'false',
      REDIS_URL: broker.url,
      REDIS_QUEUE_NAME: QUEUE,
    });
    try {
      // The Redis queue itself (PublishService hands it each update as is: it deduplicates itself).
      const publisher = sut.app.get(RedisQueuePublisher);
      const bots = identities(botCount);
      const before = await usedMemory(redis);
      const counts = { published: 0, duplicate: 0 };
      const count = (result: PublishResult): void => {
        counts[result]++;
      };
      const CHUNK = 4096;
      for (let start = 0; start < load.ids.length; start += CHUNK) {
        const pending: Promise<void>[] = [];
        for (let i = start; i < Math.min(start + CHUNK, load.ids.length); i++) {
          const bot = bots[load.bots[i] as number] as BotIdentity;
          const updateId = load.ids[i] as number;
          const body = Buffer.from(`${bot.idText}:${updateId}`);
          const update: InboundUpdate = {
            bot,
            updateId,
            type: 'message',
            raw: body,
            payload: body,
            receivedAt: 0,
          };
          pending.push(publisher.publish(update).then(count));
        }
        await Promise.all(pending);
      }
      expect(counts).toEqual({ published: load.unique, duplicate: load.ids.length - load.unique });

      // Exactly once: every (bot, update_id) sent is on the queue, none twice.
      const seen = new Set<string>();
      let twice = 0;
      for (let from = 0; ; from += 100_000) {
        const entries = await redis.lrange(QUEUE, from, from + 99_999);
        for (const entry of entries) {
          if (seen.has(entry)) twice++;
          seen.add(entry);
        }
        if (entries.length < 100_000) break;
      }
      let missing = 0;
      for (let i = 0; i < load.ids.length; i++) {
        if (!seen.has(`${(bots[load.bots[i] as number] as BotIdentity).idText}:${load.ids[i]}`)) missing++;
      }
      expect({ stored: seen.size, twice, missing }).toEqual({ stored: load.unique, twice: 0, missing: 0 });

      await redis.del(QUEUE);
      return (await usedMemory(redis)) - before;
    } finally {
      await sut.close();
    }
  }

  async function throughMemory(load: Load): Promise<{ bytes: number; stored: number }> {
    const before = heapBytes();
    const sut = new MemoryDedupStore(86_400_000, 1_000_000_000);
    let stored = 0;
    // As PublishService uses it: has, then add once the targets confirmed.
    for (let i = 0; i < load.ids.length; i++) {
      const bot = String(900_000 + (load.bots[i] as number));
      const id = load.ids[i] as number;
      if (!(await sut.has(bot, id))) {
        stored++;
        await sut.add(bot, id);
      }
    }
    const bytes = heapBytes() - before;
    expect(sut.size).toBe(load.unique);
    return { bytes, stored };
  }

  it('1,000,000 updates across 100 bots (5% duplicates): Redis holds at most 1 byte per update, each stored exactly once', async () => {
    const bytes = await throughRedis(makeLoad(100, 10_000, 0.05), 100);
    console.log(
      `Redis dedup, 100 bots × 10,000 updates: ${bytes} bytes, ${(bytes / 1e6).toFixed(3)} per update`,
    );
    expect(bytes / 1_000_000).toBeLessThanOrEqual(1);
  });

  it('the in-memory store: at most 1 byte of heap per update for the same 1,000,000', async () => {
    // Warm: the first run would count code and caches the store's methods compile into.
    await throughMemory(makeLoad(10, 1000, 0.05));
    const load = makeLoad(100, 10_000, 0.05);
    const { bytes, stored } = await throughMemory(load);
    console.log(
      `memory dedup, 100 bots × 10,000 updates: ${bytes} bytes, ${(bytes / 1e6).toFixed(3)} per update`,
    );
    expect(stored).toBe(1_000_000);
    expect(bytes / 1_000_000).toBeLessThanOrEqual(1);
  });

  // Many bots with few updates each: a block per bot, mostly empty — far more per update than
  // the dense case, far less than a key per update.
  const sparse = (): Load => makeLoad(10_000, 100, 0.05);

  it('the sparse case, 10,000 bots × 100 updates: a few bytes per update in Redis', async () => {
    const bytes = await throughRedis(sparse(), 10_000);
    console.log(`Redis dedup, 10,000 bots × 100 updates: ${(bytes / 1e6).toFixed(2)} bytes per update`);
    expect(bytes / 1_000_000).toBeLessThanOrEqual(8);
  });

  it('the sparse case in memory: a few bytes of heap per update', async () => {
    const { bytes } = await throughMemory(sparse());
    console.log(`memory dedup, 10,000 bots × 100 updates: ${(bytes / 1e6).toFixed(2)} bytes per update`);
    expect(bytes / 1_000_000).toBeLessThanOrEqual(8);
  });
});
