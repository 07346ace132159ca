import { Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';
import type {
  InboundUpdate,
  PublisherHealth,
  PublishResult,
  UpdatePublisher,
} from '../src/publisher/publisher.interface.js';
import { startApp, type TestApp } from './support/app.js';
import { freePort } from './support/brokers.js';
import { FakeBotApi, realisticUpdate } from './support/fake-bot-api.js';
import { ReceiverProcess } from './support/receiver-process.js';
import { waitUntil } from './support/wait.js';

const BOT = {
  token: '7600000006:PollSecretPartOfTheToken_abcdefghijklmn',
  id: 7600000006,
  username: 'poll_bot',
};
const REDIS_URL = 'redis://127.0.0.1:6379';

describe('TELEGRAM_MODE=polling', () => {
  let api: FakeBotApi;
  let redis: Redis;
  let queue: string;
  let app: TestApp | undefined;
  const children: ReceiverProcess[] = [];

  /** The service as a child process, polling the fake Bot API into Redis queue `queue`. */
  async function receiver(env: Record<string, string>): Promise<ReceiverProcess> {
    const child = await ReceiverProcess.start({
      TELEGRAM_MODE: 'polling',
      TELEGRAM_TOKEN: BOT.token,
      TELEGRAM_API_URL: api.url,
      REDIS_URL,
      REDIS_QUEUE_NAME: queue,
      WEBHOOK_BIND: '127.0.0.1',
      WEBHOOK_PORT: String(await freePort()),
      PUBLISH_TIMEOUT_MS: '500',
      ...env,
    });
    children.push(child);
    return child;
  }

  const until = (condition: () => boolean | Promise<boolean>): Promise<void> =>
    waitUntil(condition, 15_000, 25);

  const queued = async (): Promise<Array<Record<string, unknown>>> =>
    (await redis.lrange(queue, 0, -1)).map((entry) => JSON.parse(entry) as Record<string, unknown>);

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [BOT] });
    redis = new Redis(REDIS_URL);
  });
  beforeEach(() => {
    api.addBot(BOT);
    api.clearCalls();
    queue = `polling-e2e-${process.pid}-${Date.now()}`;
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    for (const child of children.splice(0)) child.signal('SIGKILL');
    const keys = await redis.keys(`${queue}*`);
    if (keys.length > 0) await redis.del(...keys);
  });
  afterAll(async () => {
    await api.close();
    redis.disconnect();
  });

  it('loses nothing when the process dies between fetching a batch and publishing it', async () => {
    const updates = [9001, 9002, 9003, 9004, 9005].map((id) =>
      realisticUpdate(id, { chatId: 600 + (id % 2) }),
    );
    api.setPendingUpdates(BOT.token, updates);

    // First run: it fetches the batch but cannot publish it (its Redis does not answer) …
    const unreachableRedis = `redis://127.0.0.1:${await freePort()}`;
    const first = await receiver({ REDIS_URL: unreachableRedis });
    await until(() => api.calls('getUpdates').length > 0 && first.logs.includes('batch of 5 kept'));
    // … and is killed there, with no chance to clean up.
    first.signal('SIGKILL');
    await first.exited;
    expect(api.calls('getUpdates').every((call) => call.params.offset === undefined)).toBe(true);
    expect(api.webhookInfo(BOT.token).pending_update_count).toBe(5);

    // The restart gets the same batch from Telegram and publishes all of it, in order.
    const second = await receiver({});
    await until(async () => (await redis.llen(queue)) === 5);
    expect(await queued()).toEqual(updates);

    // Once published, Telegram is told (offset past the batch): nothing is pending any more.
    await until(() => api.calls('getUpdates').some((call) => Number(call.params.offset) === 9006));
    expect(await second.stop()).toBe(0);
    expect(api.webhookInfo(BOT.token).pending_update_count).toBe(0);
  });

  it('refuses to start while a webhook is set, naming POLLING_DELETE_WEBHOOK=true', async () => {
    await fetch(`${api.url}/bot${BOT.token}/setWebhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://bot.example.com/hook' }),
    });
    const child = await receiver({});
    expect(await child.exited).toBe(1);
    expect(child.logs).toContain('answered 409 Conflict: the bot has a webhook set');
    expect(child.logs).toContain('Set POLLING_DELETE_WEBHOOK=true to delete it at start');
    expect(api.webhookInfo(BOT.token).url).toBe('https://bot.example.com/hook');
  });

  it('with POLLING_DELETE_WEBHOOK=true deletes the webhook, keeps pending updates, and publishes them like the webhook does', async () => {
    await fetch(`${api.url}/bot${BOT.token}/setWebhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://bot.example.com/hook' }),
    });
    const updates = [realisticUpdate(9101), realisticUpdate(9102, { type: 'callback_query' })];
    api.setPendingUpdates(BOT.token, updates);
    app = await startApp({
      TELEGRAM_MODE: 'polling',
      POLLING_DELETE_WEBHOOK: 'true',
      TELEGRAM_TOKEN: BOT.token,
      TELEGRAM_API_URL: api.url,
      REDIS_URL,
      REDIS_QUEUE_NAME: queue,
      PUBLISH_FORMAT: 'envelope',
    });
    expect(api.calls('deleteWebhook')[0]?.params).toMatchObject({ drop_pending_updates: false });
    expect(api.calls('setWebhook')).toHaveLength(1); // ours above; the service sets none in polling mode
    await until(async () => (await redis.llen(queue)) === 2);
    const envelopes = await queued();
    expect(envelopes.map(({ bot, update_id, type, update }) => ({ bot, update_id, type, update }))).toEqual([
      { bot: BOT.id, update_id: 9101, type: 'message', update: updates[0] },
      { bot: BOT.id, update_id: 9102, type: 'callback_query', update: updates[1] },
    ]);

    await app.close();
    app = undefined;
    expect(api.webhookInfo(BOT.token)).toMatchObject({ url: '', pending_update_count: 0 });
  });

  it('publishes each update once across a restart in the middle of a batch (shared dedup)', async () => {
    const updates = [9201, 9202, 9203, 9204].map((id) => realisticUpdate(id));
    api.setPendingUpdates(BOT.token, updates);
    const env = {
      TELEGRAM_MODE: 'polling',
      TELEGRAM_TOKEN: BOT.token,
      TELEGRAM_API_URL: api.url,
      REDIS_URL,
      REDIS_QUEUE_NAME: queue,
    };
    // First run: a second target takes 9201 and 9202, then fails from 9203 on.
    app = await startApp(env, { publishers: [FailingFrom9203Publisher] });
    await until(() => FailingFrom9203Publisher.failures > 0);
    await app.close();
    app = undefined;
    expect(api.webhookInfo(BOT.token).pending_update_count).toBe(4);

    // The restart fetches the whole batch again; what the first run queued is not queued twice.
    app = await startApp(env);
    await until(() => api.webhookInfo(BOT.token).pending_update_count === 0);
    expect(await queued()).toEqual(updates);
  });
});

/** A plug-in target that confirms updates below 9203 and fails the others. */
@Injectable()
class FailingFrom9203Publisher implements UpdatePublisher {
  static failures = 0;
  readonly name = 'failing-from-9203';

  publish(update: InboundUpdate): Promise<PublishResult> {
    if (update.updateId < 9203) return Promise.resolve('published');
    FailingFrom9203Publisher.failures++;
    return Promise.reject(new Error('target down'));
  }

  health(): PublisherHealth {
    return { up: true };
  }
}
