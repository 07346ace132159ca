import { randomBytes } from 'node:crypto';
import { keySlot } from '../src/redis/key-slot.js';
import { startApp, type TestApp } from './support/app.js';
import { freePort } from './support/brokers.js';
import { FakeBotApi } from './support/fake-bot-api.js';
import { startRedisCluster, type RedisCluster } from './support/redis-topologies.js';
import { waitUntil } from './support/wait.js';

/** The shared bot store on a Redis Cluster: its scripts and MULTIs keep to one hash slot, its feed crosses nodes. */
const ADMIN_TOKEN = 'cluster_admin_token_0123456789abcdef';
const BOT = { token: '735001:AAH_store-cluster-bot', id: 735001, username: 'cluster_store_bot' };
const SECRET = 'cluster_store_bot_secret';

describe('the bot store on a Redis Cluster', () => {
  let api: FakeBotApi;
  let cluster: RedisCluster;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [BOT] });
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 0 });
  }, 60_000);
  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const node of cluster.nodes) await node.broker.stop();
    await api.close();
  }, 30_000);

  it('a bot added through one replica is served by the other, and removed from both', async () => {
    const key = randomBytes(32).toString('base64');
    const replica = async (): Promise<{ app: TestApp; admin: string }> => {
      const port = await freePort();
      const app = await startApp(
        {
          TELEGRAM_API_URL: api.url,
          WEBHOOK_DOMAIN: 'cluster.example.com',
          REDIS_CLUSTER_NODES: cluster.seedList,
          REDIS_QUEUE_NAME: 'cluster_store',
          BOTS_STORE: 'redis',
          BOTS_ENCRYPTION_KEY: key,
          TELEGRAM_DELETE_WEBHOOK: 'false',
          ADMIN_PORT: String(port),
          ADMIN_TOKEN,
        },
        { listen: true },
      );
      apps.push(app);
      return { app, admin: `http://127.0.0.1:${port}` };
    };
    const [a, b] = [await replica(), await replica()];
    const deliver = async (app: TestApp): Promise<number> => {
      const response = await fetch(`${app.url}/clustered`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
        body: JSON.stringify({ update_id: 1, message: { message_id: 1, text: 'hi' } }),
      });
      await response.arrayBuffer();
      return response.status;
    };
    const admin = (method: string, path: string, body?: unknown): Promise<Response> =>
      fetch(`${a.admin}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    const keys = ['{cluster_store:bots}:records', '{cluster_store:bots}:version'];
    expect(new Set(keys.map(keySlot)).size).toBe(1);
    expect(await deliver(b.app)).toBe(404);
    const created = await admin('POST', '/bots', { token: BOT.token, endpoint: 'clustered', secret: SECRET });
    expect(created.status).toBe(201);
    await waitUntil(
      async () => (await deliver(b.app)) === 200,
      5000,
      20,
      'the other replica serving the bot',
    );
    expect(await deliver(a.app)).toBe(200);
    expect((await admin('DELETE', `/bots/${BOT.id}`)).status).toBe(204);
    await waitUntil(
      async () => (await deliver(b.app)) === 404,
      5000,
      20,
      'the other replica dropping the bot',
    );
    expect(api.calls('deleteWebhook', BOT.token)).toHaveLength(1);
  }, 60_000);
});
