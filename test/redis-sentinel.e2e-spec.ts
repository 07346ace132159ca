/**
 * Redis Sentinel: a private master, one replica and three sentinels; the master is SIGKILLed under
 * load (several thousand updates, 10% redeliveries). With REDIS_WAIT_REPLICAS=1 every update
 * answered 200 is on the promoted master's list exactly once, no request waits past
 * PUBLISH_TIMEOUT_MS, readiness names the master while it is gone, and the service follows the
 * promotion by itself. The same run with REDIS_WAIT_REPLICAS=0 reports what it loses. Closing the
 * app closes its connections to the sentinels too.
 */
import { Redis } from 'ioredis';
import { startApp, type TestApp } from './support/app.js';
import { FakeBotApi } from './support/fake-bot-api.js';
import { kill, startSentinelGroup, type SentinelGroup } from './support/redis-topologies.js';
import { TelegramSender, type SendResult } from './support/telegram-sender.js';
import { storedVersusAcked, updatesWithDuplicates } from './support/update-load.js';
import { waitUntil } from './support/wait.js';

const TOKEN = '640001:AAH_sentinel-bot-token';
const SECRET = 'sentinel_secret';
const QUEUE = 'failover';
const PUBLISH_TIMEOUT_MS = 1000;

describe('Redis Sentinel failover', () => {
  let api: FakeBotApi;

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [{ token: TOKEN, id: 640001, username: 'sentinel_bot' }] });
  });
  afterAll(() => api.close());

  interface Outcome {
    result: SendResult;
    stored: string[];
    /** /status while the master was gone. */
    downStatus: { statusCode: number; body: string };
    oldMasterPort: number;
    promotedPort: number;
  }

  /** The service on the group's sentinels, one bot, its webhook left alone. */
  function sentinelEnv(group: SentinelGroup): Record<string, string> {
    return {
      TELEGRAM_TOKEN: TOKEN,
      TELEGRAM_API_URL: api.url,
      TELEGRAM_SET_WEBHOOK: 'false',
      TELEGRAM_DELETE_WEBHOOK: 'false',
      WEBHOOK_ENDPOINT: 'hook',
      WEBHOOK_SECRET: SECRET,
      REDIS_SENTINELS: group.sentinelList,
      REDIS_SENTINEL_MASTER: group.masterName,
      REDIS_QUEUE_NAME: QUEUE,
    };
  }

  /** Loads the service, kills the master once a tenth is stored, brings it back as a replica. */
  async function failover(waitReplicas: number): Promise<Outcome> {
    const group: SentinelGroup = await startSentinelGroup({ replicas: 1, sentinels: 3, downAfterMs: 1000 });
    const sut: TestApp = await startApp(
      {
        ...sentinelEnv(group),
        REDIS_WAIT_REPLICAS: String(waitReplicas),
        PUBLISH_TIMEOUT_MS: String(PUBLISH_TIMEOUT_MS),
      },
      { listen: true },
    );
    const sender = new TelegramSender({
      url: `${sut.url}/hook`,
      secret: SECRET,
      maxBackoffMs: 500,
      deadlineMs: 45_000,
      // An answer later than this counts as an error: PUBLISH_TIMEOUT_MS and then some.
      requestTimeoutMs: PUBLISH_TIMEOUT_MS + 1500,
    });
    const oldMasterPort = group.master.port;
    try {
      expect((await sut.app.inject({ method: 'GET', url: '/status' })).statusCode).toBe(200);
      const run = sender.send(updatesWithDuplicates(4000, 5_000_000));
      const master = new Redis(group.master.url);
      await waitUntil(async () => (await master.llen(QUEUE)) >= 400, 20_000, 10);
      master.disconnect();
      await kill(group.master);

      let downStatus = { statusCode: 0, body: '' };
      await waitUntil(async () => {
        const status = await sut.app.inject({ method: 'GET', url: '/status' });
        downStatus = { statusCode: status.statusCode, body: status.body };
        return status.statusCode === 503;
      }, 10_000);
      await waitUntil(async () => (await group.currentMasterPort()) !== oldMasterPort, 20_000, 100);
      // The failed host comes back; the sentinels make it a replica of the promoted master, which
      // then has a replica to acknowledge writes again.
      await group.master.start();
      const result = await run;
      const promotedPort = await group.currentMasterPort();
      const promoted = new Redis({ port: promotedPort, host: '127.0.0.1' });
      const stored = await promoted.lrange(QUEUE, 0, -1);
      promoted.disconnect();
      return { result, stored, downStatus, oldMasterPort, promotedPort };
    } finally {
      await sender.close();
      await sut.close();
      await group.stop();
    }
  }

  it('REDIS_WAIT_REPLICAS=1: every update answered 200 is on the promoted master exactly once', async () => {
    const { result, stored, downStatus, oldMasterPort, promotedPort } = await failover(1);
    expect(promotedPort).not.toBe(oldMasterPort);
    expect(result.failed).toEqual([]);
    // No request hung: every attempt got an answer within PUBLISH_TIMEOUT_MS and some.
    expect(result.statusCounts.error).toBeUndefined();
    expect(result.statusCounts[503]).toBeGreaterThan(0);
    const check = storedVersusAcked(stored, result.acked.keys());
    expect({ missing: check.missing.length, doubled: check.doubled.length, stored: check.stored }).toEqual({
      missing: 0,
      doubled: 0,
      stored: 4000,
    });
    expect(downStatus.statusCode).toBe(503);
    expect(downStatus.body).toContain(
      `redis sentinel master receiver-master (master last at 127.0.0.1:${oldMasterPort}`,
    );
  });

  it('closes every connection to the sentinels with the app, its failover subscriptions included', async () => {
    const group = await startSentinelGroup({ replicas: 1, sentinels: 3 });
    try {
      const sut = await startApp(sentinelEnv(group));
      let closed = false;
      try {
        expect((await sut.app.inject({ method: 'GET', url: '/status' })).statusCode).toBe(200);
        // The connection subscribes to +switch-master on every sentinel, to follow a promotion at once.
        await waitUntil(
          async () => (await subscribers(group)).every((n) => n === 1),
          10_000,
          50,
          'a +switch-master subscription on every sentinel',
        );
        await sut.close();
        closed = true;
        // Those subscriptions kept a process that closed the app from exiting (sockets to live
        // sentinels; once they stop, a reconnect timer every minute).
        await waitUntil(
          async () => (await subscribers(group)).every((n) => n === 0),
          10_000,
          50,
          'no subscription left on the sentinels after close',
        );
      } finally {
        if (!closed) await sut.close();
      }
    } finally {
      await group.stop();
    }
  });

  it('REDIS_WAIT_REPLICAS=0: reports what a failover loses of the updates answered 200', async () => {
    const { result, stored } = await failover(0);
    const check = storedVersusAcked(stored, result.acked.keys());
    console.log(
      `REDIS_WAIT_REPLICAS=0, master SIGKILLed under load: ${check.missing.length} of ${result.acked.size} updates answered 200 are not on the promoted master; ${check.doubled.length} stored twice; ${result.failed.length} requests failed`,
    );
    // Reported, not asserted (the issue asks for a report): without WAIT, what a failover loses,
    // doubles or leaves unanswered depends on how far replication lagged at the kill.
    expect(result.acked.size).toBeGreaterThan(0);
  });
});

/** Per sentinel, its clients subscribed to a channel (CLIENT LIST's `sub=`). */
async function subscribers(group: SentinelGroup): Promise<number[]> {
  return Promise.all(
    group.sentinels.map(async (sentinel) => {
      const client = new Redis({ port: sentinel.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
      try {
        const list = (await client.call('CLIENT', 'LIST')) as string;
        return list.split('\n').filter((line) => /\bsub=[1-9]/.test(line)).length;
      } finally {
        client.disconnect();
      }
    }),
  );
}
