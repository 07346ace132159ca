import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { Redis } from 'ioredis';
import { freePort, startPrivateRedis, type PrivateBroker } from './support/brokers.js';
import { FakeBotApi } from './support/fake-bot-api.js';
import { ReceiverProcess } from './support/receiver-process.js';
import { waitUntil } from './support/wait.js';

/**
 * Replicas of the built service sharing one bot store (BOTS_STORE=redis) on a private Redis: a
 * change made through one replica's admin API reaches the others; one that starts later, or whose
 * feed connection is cut while changes are made, ends with the same bots.
 */
const ADMIN_TOKEN = 'replicas_admin_token_0123456789abcdef';
const bot = (n: number) => ({
  token: `73200${n}:AAH_replica-store-bot-${n}-secret`,
  id: 732000 + n,
  username: `store_bot_${n}`,
  endpoint: `store${n}`,
  secret: `store_bot_${n}_webhook_secret`,
});
type StoreBot = ReturnType<typeof bot>;
const BOTS = [1, 2, 3, 4].map(bot) as [StoreBot, StoreBot, StoreBot, StoreBot];
const [FIRST, SECOND, THIRD, FOURTH] = BOTS;

interface Replica {
  readonly process: ReceiverProcess;
  readonly webhook: string;
  readonly admin: string;
}

describe('replicas sharing the bot store', () => {
  let api: FakeBotApi;
  let server: PrivateBroker;
  let redis: Redis;
  const key = randomBytes(32).toString('base64');
  const replicas: Replica[] = [];

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: BOTS });
    server = await startPrivateRedis();
    redis = new Redis(server.url);
  }, 30_000);
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.process.stop()));
    redis.disconnect();
    await server.stop();
    await api.close();
  }, 30_000);

  async function replica(): Promise<Replica> {
    const [webhookPort, adminPort] = [await freePort(), await freePort()];
    const started = await ReceiverProcess.start(
      {
        TELEGRAM_API_URL: api.url,
        WEBHOOK_DOMAIN: 'replicas.example.com',
        WEBHOOK_BIND: '127.0.0.1',
        WEBHOOK_PORT: String(webhookPort),
        REDIS_URL: server.url,
        BOTS_STORE: 'redis',
        BOTS_ENCRYPTION_KEY: key,
        ADMIN_PORT: String(adminPort),
        ADMIN_TOKEN,
        TELEGRAM_DELETE_WEBHOOK: 'false',
      },
      30_000,
    );
    if (!started.running) throw new Error(`replica did not start:\n${started.logs}`);
    const r = {
      process: started,
      webhook: `http://127.0.0.1:${webhookPort}`,
      admin: `http://127.0.0.1:${adminPort}`,
    };
    replicas.push(r);
    return r;
  }

  const admin = async (r: Replica, method: string, path: string, body?: unknown): Promise<number> => {
    const response = await fetch(`${r.admin}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    await response.arrayBuffer();
    return response.status;
  };

  const add = (r: Replica, b: ReturnType<typeof bot>): Promise<number> =>
    admin(r, 'POST', '/bots', { token: b.token, endpoint: b.endpoint, secret: b.secret });

  const UPDATE = JSON.stringify({ update_id: 7, message: { message_id: 1, text: 'hi' } });

  const deliver = async (r: Replica, b: ReturnType<typeof bot>): Promise<number> => {
    const response = await fetch(`${r.webhook}/${b.endpoint}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': b.secret },
      body: UPDATE,
    });
    await response.arrayBuffer();
    return response.status;
  };

  /** The ids of the bots a replica serves, by its admin API. */
  const served = async (r: Replica): Promise<number[]> => {
    const response = await fetch(`${r.admin}/bots`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const body = (await response.json()) as { bots: Array<{ id: number }> };
    return body.bots.map((b) => b.id).sort();
  };

  it('a bot added on one replica is served by both, its webhook set once; removed, both answer 404 and deleteWebhook is called once', async () => {
    const [a, b] = [await replica(), await replica()];
    expect(await deliver(a, FIRST)).toBe(404);
    expect(await deliver(b, FIRST)).toBe(404);

    expect(await add(a, FIRST)).toBe(201);
    const added = Date.now();
    await waitUntil(
      async () => (await deliver(b, FIRST)) === 200,
      5000,
      10,
      'the other replica serving the new bot',
    );
    const elapsed = Date.now() - added;
    expect(await deliver(a, FIRST)).toBe(200);
    expect(api.calls('setWebhook', FIRST.token)).toHaveLength(1);
    console.log(`bot store: an added bot reached the other replica ${elapsed} ms after the 201`);

    // A request whose headers B has read (the bot found) but whose body is still coming.
    let answer: (status: number) => void = () => undefined;
    const answered = new Promise<number>((resolve) => (answer = resolve));
    const inFlight = request(`${b.webhook}/${FIRST.endpoint}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(UPDATE),
        'x-telegram-bot-api-secret-token': FIRST.secret,
      },
    });
    inFlight.on('response', (response) => {
      response.resume();
      answer(response.statusCode ?? 0);
    });
    await new Promise<void>((resolve) => inFlight.write(UPDATE.slice(0, 10), () => resolve()));

    expect(await admin(a, 'DELETE', `/bots/${FIRST.id}`)).toBe(204);
    const removed = Date.now();
    await waitUntil(
      async () => (await deliver(b, FIRST)) === 404,
      5000,
      10,
      'the other replica dropping the bot',
    );
    console.log(
      `bot store: a removed bot was gone on the other replica ${Date.now() - removed} ms after the 204`,
    );
    expect(await deliver(a, FIRST)).toBe(404);
    inFlight.end(UPDATE.slice(10));
    expect(await answered).toBe(200);
    await waitUntil(() => b.process.logs.includes(`No longer serving bot @${FIRST.username}`), 5000);
    expect(api.calls('deleteWebhook', FIRST.token)).toHaveLength(1);
  }, 60_000);

  it('a replica started after changes, and one whose feed connection was cut during them, end with the same bots', async () => {
    const [a, b] = replicas as [Replica, Replica];
    const list = (await redis.call('CLIENT', 'LIST')) as string;
    const feed = list
      .split('\n')
      .find((line) => line.includes(`name=telegram-receiver:bots-feed:${b.process.pid} `));
    const id = /(?:^|\s)id=(\d+)/.exec(feed ?? '')?.[1];
    expect(id).toBeDefined();

    // Cut B's feed, and change the store while it is away.
    await redis.call('CLIENT', 'KILL', 'ID', id as string);
    expect(await add(a, SECOND)).toBe(201);
    expect(await add(a, THIRD)).toBe(201);
    expect(await admin(a, 'DELETE', `/bots/${SECOND.id}`)).toBe(204);
    expect(await add(a, FOURTH)).toBe(201);

    await waitUntil(
      async () => (await deliver(b, FOURTH)) === 200,
      10_000,
      20,
      'the cut replica serving the last bot',
    );
    expect(b.process.logs).toContain('Bot store feed connected again: reading the whole store');
    const c = await replica();
    const expected = [THIRD.id, FOURTH.id].sort();
    expect(await served(a)).toEqual(expected);
    expect(await served(b)).toEqual(expected);
    expect(await served(c)).toEqual(expected);
    for (const r of [a, b, c]) {
      expect(await deliver(r, SECOND)).toBe(404);
      expect(await deliver(r, THIRD)).toBe(200);
    }
    // No replica printed a token or a webhook secret.
    for (const r of [a, b, c]) {
      for (const s of BOTS) {
        expect(r.process.logs).not.toContain(s.token.split(':')[1]);
        expect(r.process.logs).not.toContain(s.secret);
      }
    }
  }, 60_000);
});
