/**
 * 10,000 bots (issue #15, point 6), from BOTS_FILE and from the shared store: every bot's path with
 * its own secret is answered 200 and its update lands in the queue under that bot's id; another
 * bot's secret is 401. Sent over real HTTP, a bounded number at once on keep-alive connections, as
 * Telegram's servers would.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { Redis } from 'ioredis';
import { startApp, writeBotsFile, type TestApp } from './support/app.js';
import { FakeBotApi, realisticUpdate, type FakeBot } from './support/fake-bot-api.js';

const BOTS = 10_000;
/** Requests in flight at once (and keep-alive sockets). */
const CONNECTIONS = 32;

interface ScaleBot extends FakeBot {
  endpoint: string;
  secret: string;
}

const bots: ScaleBot[] = Array.from({ length: BOTS }, (_, i) => ({
  token: `${720_000_000 + i}:AAH_scale-test-bot-${i}`,
  id: 720_000_000 + i,
  username: `scale_${i}_bot`,
  endpoint: `scale/${i}`,
  secret: `scale_secret_${i}`,
}));

/** The bots as a BOTS_FILE. */
const botsFile = (): string =>
  writeBotsFile(
    `bots:\n${bots.map((bot) => `  - token: "${bot.token}"\n    endpoint: ${bot.endpoint}\n    secret: ${bot.secret}\n`).join('')}`,
  );

describe.each(['BOTS_FILE', 'BOTS_STORE=redis'] as const)(`${BOTS} bots from %s`, (source) => {
  let api: FakeBotApi;
  let redis: Redis;
  let sut: TestApp;
  const queue = `test:bots-scale:${randomUUID()}`;
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots });
    redis = new Redis('redis://127.0.0.1:6379');
    const env = {
      TELEGRAM_API_URL: api.url,
      TELEGRAM_SET_WEBHOOK: 'false',
      TELEGRAM_DELETE_WEBHOOK: 'false',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_QUEUE_NAME: queue,
      REDIS_QUEUE_MODE: 'stream',
    };
    if (source === 'BOTS_FILE') {
      sut = await startApp({ ...env, BOTS_FILE: botsFile() }, { listen: true });
      return;
    }
    // A first replica seeds the store from BOTS_FILE; the one under test starts from the store alone.
    const store = { ...env, BOTS_STORE: 'redis', BOTS_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
    await (await startApp({ ...store, BOTS_FILE: botsFile() })).close();
    api.clearCalls();
    sut = await startApp(store, { listen: true });
  }, 60_000);
  afterAll(async () => {
    agent.destroy();
    await sut?.close();
    await api?.close();
    // The queue's keys, and the store's (under a hash tag of the queue name).
    const keys = [...(await redis.keys(`${queue}*`)), ...(await redis.keys(`{${queue}*`))];
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  const post = (path: string, secret: string, body: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request(
        `${sut.url}/${path}`,
        {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  it('routes every bot’s update to the queue under its own id, and refuses another bot’s secret', async () => {
    // getMe once per bot from BOTS_FILE; stored bots keep their identity.
    expect(api.calls('getMe')).toHaveLength(source === 'BOTS_FILE' ? BOTS : 0);
    const statuses = new Array<number>(BOTS);
    let next = 0;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (next < BOTS) {
          const i = next++;
          const bot = bots[i] as ScaleBot;
          statuses[i] = await post(bot.endpoint, bot.secret, JSON.stringify(realisticUpdate(i + 1)));
        }
      }),
    );
    expect(statuses.filter((status) => status !== 200)).toEqual([]);

    // One bot's path with the next bot's secret.
    const [one, other] = [bots[4321] as ScaleBot, bots[4322] as ScaleBot];
    expect(await post(one.endpoint, other.secret, JSON.stringify(realisticUpdate(BOTS + 1)))).toBe(401);

    // Every update once, under the id of the bot whose path and secret it came with.
    const entries = await redis.xrange(queue, '-', '+');
    expect(entries).toHaveLength(BOTS);
    const wrong: string[] = [];
    const seen = new Set<number>();
    for (const [, fields] of entries) {
      const field = (name: string): string | undefined => fields[fields.indexOf(name) + 1];
      const updateId = Number(field('update_id'));
      seen.add(updateId);
      const expected = bots[updateId - 1];
      if (field('bot') !== String(expected?.id)) wrong.push(`update ${updateId} under bot ${field('bot')}`);
    }
    expect(wrong).toEqual([]);
    expect(seen.size).toBe(BOTS);

    // From 1,000 bots on (METRICS_PER_BOT unset) the counts are one series per kind, not one per bot.
    const metrics = await sut.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain(
      `telegram_receiver_updates_received_total{bot="all",type="message"} ${BOTS}`,
    );
    expect(metrics.body).toContain('telegram_receiver_updates_rejected_total{bot="all",reason="secret"} 1');
    expect(metrics.body).not.toMatch(/updates_received_total\{bot="72/);
  }, 60_000);
});
