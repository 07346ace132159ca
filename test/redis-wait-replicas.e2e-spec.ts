/**
 * REDIS_WAIT_REPLICAS on one server with a replica: 200 only once the replica holds the update;
 * fewer replicas in time → 503 + Retry-After, the update claimed and pushed on the master, and
 * Telegram's retry answered 200 — without a second push — once the replica has caught up. The
 * replica is paused with SIGSTOP: connected, but acknowledging nothing.
 */
import { Redis } from 'ioredis';
import { startApp, type TestApp } from './support/app.js';
import { FakeBotApi, realisticUpdate } from './support/fake-bot-api.js';
import { startReplicatedRedis, type ReplicatedRedis } from './support/redis-topologies.js';

const TOKEN = '630001:AAH_wait-bot-token';
const SECRET = 'wait_secret';
const QUEUE = 'acked';

describe('REDIS_WAIT_REPLICAS', () => {
  let api: FakeBotApi;
  let redis: ReplicatedRedis;
  let master: Redis;
  let replica: Redis;

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [{ token: TOKEN, id: 630001, username: 'wait_bot' }] });
    redis = await startReplicatedRedis(1);
    master = new Redis(redis.master.url);
    replica = new Redis(redis.replicas[0]!.url);
  });
  afterEach(() => {
    // A failed test must not leave the replica stopped for the next.
    process.kill(redis.replicas[0]!.pid, 'SIGCONT');
  });
  afterAll(async () => {
    master.disconnect();
    replica.disconnect();
    await api.close();
  });

  const app = (): Promise<TestApp> =>
    startApp({
      TELEGRAM_TOKEN: TOKEN,
      TELEGRAM_API_URL: api.url,
      TELEGRAM_SET_WEBHOOK: 'false',
      TELEGRAM_DELETE_WEBHOOK: 'false',
      WEBHOOK_ENDPOINT: 'hook',
      WEBHOOK_SECRET: SECRET,
      REDIS_URL: redis.master.url,
      REDIS_QUEUE_NAME: QUEUE,
      REDIS_WAIT_REPLICAS: '1',
      PUBLISH_TIMEOUT_MS: '800',
    });
  const post = (sut: TestApp, body: string) =>
    sut.app.inject({
      method: 'POST',
      url: '/hook',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
      payload: body,
    });
  const pauseReplica = (): void => void process.kill(redis.replicas[0]!.pid, 'SIGSTOP');
  const resumeReplica = (): void => void process.kill(redis.replicas[0]!.pid, 'SIGCONT');

  it('answers 200 once the replica holds the update; 503 while it does not, and the retry once it does', async () => {
    await master.del(QUEUE);
    const sut = await app();
    try {
      const first = JSON.stringify(realisticUpdate(1001));
      expect((await post(sut, first)).statusCode).toBe(200);
      // Acknowledged: the replica has it the moment Telegram gets its 200.
      expect(await replica.lrange(QUEUE, 0, -1)).toEqual([first]);

      pauseReplica();
      const second = JSON.stringify(realisticUpdate(1002));
      const started = Date.now();
      const refused = await post(sut, second);
      expect(refused.statusCode).toBe(503);
      expect(refused.headers['retry-after']).toBeDefined();
      expect(Date.now() - started).toBeLessThan(800 + 2000); // PUBLISH_TIMEOUT_MS, and room for a busy machine
      // Claimed and pushed on the master all the same; a retry while the replica lags is refused
      // again, and pushes nothing.
      expect((await post(sut, second)).statusCode).toBe(503);
      expect(await master.lrange(QUEUE, 0, -1)).toEqual([first, second]);

      resumeReplica();
      expect((await post(sut, second)).statusCode).toBe(200);
      expect(await master.lrange(QUEUE, 0, -1)).toEqual([first, second]);
      expect(await replica.lrange(QUEUE, 0, -1)).toEqual([first, second]);
    } finally {
      await sut.close();
    }
  });

  it('a copy another service replica stored is answered 200 only once the Redis replica holds it', async () => {
    await master.del(QUEUE);
    const a = await app();
    const b = await app();
    try {
      // Each service replica has written before, so neither connection is fresh.
      expect((await post(a, JSON.stringify(realisticUpdate(2000)))).statusCode).toBe(200);
      expect((await post(b, JSON.stringify(realisticUpdate(2001)))).statusCode).toBe(200);
      pauseReplica();
      const body = JSON.stringify(realisticUpdate(2002));
      expect((await post(a, body)).statusCode).toBe(503);
      // Telegram's retry reaches the other service replica: a duplicate there — and not yet on
      // the Redis replica, so not acknowledged either.
      expect((await post(b, body)).statusCode).toBe(503);
      resumeReplica();
      expect((await post(b, body)).statusCode).toBe(200);
      expect(await replica.lrange(QUEUE, 0, -1)).toHaveLength(3);
      expect(await master.lrange(QUEUE, 2, -1)).toEqual([body]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
