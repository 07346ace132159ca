/**
 * Redis Cluster: three masters with a replica each, made by `redis-cli --cluster create` on
 * private ports. Three bots with a `redis_queue` of their own, on three different masters; each
 * queue and its dedup keys share a hash slot, so the claim-and-push script runs there. One master
 * is SIGKILLed mid-load and its replica takes over: with REDIS_WAIT_REPLICAS=1 no update answered
 * 200 is lost, each is stored once and byte for byte, and readiness names the node while it is
 * down.
 */
import { Cluster } from 'ioredis';
import { keySlot } from '../src/redis/key-slot.js';
import { RedisQueuePublisher } from '../src/publisher/targets/redis/redis-queue.publisher.js';
import { startApp, writeBotsFile, type TestApp } from './support/app.js';
import { FakeBotApi } from './support/fake-bot-api.js';
import { kill, startRedisCluster, type ClusterNode, type RedisCluster } from './support/redis-topologies.js';
import { TelegramSender } from './support/telegram-sender.js';
import { storedVersusAcked, updatesWithDuplicates } from './support/update-load.js';
import { waitUntil } from './support/wait.js';

const BOTS = [0, 1, 2].map((i) => ({
  token: `65000${i}:AAH_cluster-bot-${i}`,
  id: 650000 + i,
  username: `cluster_${i}_bot`,
  endpoint: `cluster-${i}`,
  secret: `cluster_secret_${i}`,
}));
const PUBLISH_TIMEOUT_MS = 1000;

describe('Redis Cluster', () => {
  let api: FakeBotApi;
  let cluster: RedisCluster;
  /** Per bot: its queue, on a master of its own. */
  let queues: { name: string; slot: number; master: ClusterNode }[];

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: BOTS });
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 1000 });
    // Queue names whose slots are served by three different masters.
    queues = [];
    for (let i = 0; queues.length < BOTS.length; i++) {
      const name = `updates:${i}`;
      const slot = keySlot(name);
      const master = await cluster.masterOf(slot);
      if (!queues.some((q) => q.master === master)) queues.push({ name, slot, master });
    }
  }, 60_000);
  afterAll(async () => {
    await api.close();
    for (const node of cluster.nodes) await node.broker.stop();
  });

  const botsFile = (): string =>
    writeBotsFile(
      JSON.stringify(
        BOTS.map((bot, i) => ({
          token: bot.token,
          endpoint: bot.endpoint,
          secret: bot.secret,
          redis_queue: queues[i]!.name,
        })),
      ),
      'bots.json',
    );

  it('keeps each queue and its dedup keys in one hash slot; SIGKILL of a master loses no update answered 200', async () => {
    const sut: TestApp = await startApp(
      {
        BOTS_FILE: botsFile(),
        TELEGRAM_API_URL: api.url,
        TELEGRAM_SET_WEBHOOK: 'false',
        TELEGRAM_DELETE_WEBHOOK: 'false',
        REDIS_CLUSTER_NODES: cluster.seedList,
        REDIS_WAIT_REPLICAS: '1',
        PUBLISH_TIMEOUT_MS: String(PUBLISH_TIMEOUT_MS),
      },
      { listen: true },
    );
    const senders = BOTS.map(
      (bot) =>
        new TelegramSender({
          url: `${sut.url}/${bot.endpoint}`,
          secret: bot.secret,
          connections: 20,
          maxBackoffMs: 500,
          deadlineMs: 50_000,
          requestTimeoutMs: PUBLISH_TIMEOUT_MS + 1500,
        }),
    );
    const reader = new Cluster(cluster.nodes.slice(0, 1).map((n) => ({ host: '127.0.0.1', port: n.port })));
    const sent = BOTS.map((_, i) => updatesWithDuplicates(1500, 7_000_000 + i * 100_000));
    const victim = queues[0]!;
    try {
      expect((await sut.app.inject({ method: 'GET', url: '/status' })).statusCode).toBe(200);
      const runs = senders.map((sender, i) => sender.send(sent[i]!));
      await waitUntil(async () => (await reader.llen(victim.name)) >= 150, 20_000, 10);
      await kill(victim.master.broker);

      // Readiness names the node that serves slots and is gone — at once, not at the next
      // periodic refresh of the slot map (a SIGKILLed node's sockets close without an error).
      await waitUntil(async () => {
        const status = await sut.app.inject({ method: 'GET', url: '/status' });
        return (
          status.statusCode === 503 &&
          status.body.includes(`redis cluster node 127.0.0.1:${victim.master.port}`)
        );
      }, 5_000);
      // Its replica takes over; the failed node comes back and becomes the new master's replica.
      await waitUntil(async () => (await cluster.masterOf(victim.slot)) !== victim.master, 20_000, 100);
      await victim.master.broker.start();
      const results = await Promise.all(runs);

      for (const [i, result] of results.entries()) {
        expect(result.failed).toEqual([]);
        expect(result.statusCounts.error).toBeUndefined();
        const stored = await reader.lrange(queues[i]!.name, 0, -1);
        const check = storedVersusAcked(stored, result.acked.keys());
        expect({ bot: i, missing: check.missing.length, doubled: check.doubled.length }).toEqual({
          bot: i,
          missing: 0,
          doubled: 0,
        });
        // Byte for byte: exactly the bodies sent, each once.
        expect([...stored].sort()).toEqual([...new Set(sent[i])].sort());
        // Its claims are in its slot.
        const block = RedisQueuePublisher.dedupKey(
          queues[i]!.name,
          String(BOTS[i]!.id),
          7_000_000 + i * 100_000,
        );
        expect(keySlot(block)).toBe(queues[i]!.slot);
        expect(await reader.getbit(block, (7_000_000 + i * 100_000) % 1024)).toBe(1);
      }
      expect(results[0]!.statusCounts[503]).toBeGreaterThan(0);
      // Recovered without a restart: ready again once the slot map no longer names the dead node.
      await waitUntil(
        async () => (await sut.app.inject({ method: 'GET', url: '/status' })).statusCode === 200,
        15_000,
      );
    } finally {
      reader.disconnect();
      for (const sender of senders) await sender.close();
      await sut.close();
    }
  });
});
