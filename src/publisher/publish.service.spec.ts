import { jest } from '@jest/globals';
import type { PerBotKind } from '../common/per-bot-kind.js';
import { MemoryDedupStore } from './dedup.store.js';
import { PublishError } from './publish.error.js';
import { PublishService } from './publish.service.js';
import type { InboundUpdate, PublishResult, UpdatePublisher } from './publisher.interface.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import type { BotIdentity } from '../bots/bot.js';
import { inboundUpdate } from '../../test/support/inbound-update.js';

const bot = { idText: '42', id: 42 } as BotIdentity;
const update = (updateId: number, type = 'message'): InboundUpdate => inboundUpdate(updateId, type, { bot });
const config = (ttl = 60, timeout = 200) =>
  ({ settings: { PUBLISH_TIMEOUT_MS: timeout, DEDUP_TTL_SECONDS: ttl } }) as unknown as ReceiverConfig;
const metrics = {
  updatePublished: jest.fn(),
  publishFailed: jest.fn(),
  updateDuplicate: jest.fn(),
  watchTargets: jest.fn(),
} as unknown as MetricsService;

function target(
  name: string,
  behaviour: (u: InboundUpdate) => Promise<PublishResult>,
  extra: Partial<UpdatePublisher> = {},
) {
  const publish = jest.fn(behaviour);
  return { name, publish, health: () => ({ up: true }), ...extra } satisfies UpdatePublisher;
}

describe('PublishService', () => {
  it('publishes to every target and marks the update seen only afterwards', async () => {
    const a = target('a', () => Promise.resolve('published'));
    const b = target('b', () => Promise.resolve('published'));
    const dedup = new MemoryDedupStore(60_000, 10);
    const sut = new PublishService([a, b], dedup, config(), metrics);
    await expect(sut.publish(update(1))).resolves.toBe('published');
    expect(a.publish).toHaveBeenCalledTimes(1);
    expect(b.publish).toHaveBeenCalledTimes(1);
    await expect(dedup.has('42', 1)).resolves.toBe(true);
    await expect(sut.publish(update(1))).resolves.toBe('duplicate');
    expect(a.publish).toHaveBeenCalledTimes(1);
  });

  it('never marks a failed publish as seen, so the retry publishes', async () => {
    let fail = true;
    const a = target('a', () => (fail ? Promise.reject(new Error('down')) : Promise.resolve('published')));
    const dedup = new MemoryDedupStore(60_000, 10);
    const sut = new PublishService([a], dedup, config(), metrics);
    await expect(sut.publish(update(2))).rejects.toThrow(new PublishError('a', 'down'));
    await expect(dedup.has('42', 2)).resolves.toBe(false);
    fail = false;
    await expect(sut.publish(update(2))).resolves.toBe('published');
    expect(a.publish).toHaveBeenCalledTimes(2);
  });

  it('names the targets that had not confirmed when PUBLISH_TIMEOUT_MS runs out, and counts each once', async () => {
    const counted = {
      updatePublished: jest.fn(),
      publishFailed: jest.fn(),
      updateDuplicate: jest.fn(),
      watchTargets: jest.fn(),
    };
    let failLate: (error: Error) => void = () => undefined;
    const fast = target('fast', () => Promise.resolve('published'));
    const slow = target('slow', () => new Promise<PublishResult>((_resolve, reject) => (failLate = reject)));
    const stuck = target('stuck', () => new Promise<PublishResult>(() => undefined));
    const sut = new PublishService(
      [fast, slow, stuck],
      new MemoryDedupStore(60_000, 10),
      config(60, 50),
      counted as unknown as MetricsService,
    );
    await expect(sut.publish(update(30))).rejects.toThrow(
      new PublishError('slow, stuck', 'no confirmation within 50 ms'),
    );
    expect(counted.publishFailed.mock.calls).toEqual([['slow'], ['stuck']]);
    // The slow target's late failure was already counted as the timeout.
    failLate(new Error('gave up'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(counted.publishFailed).toHaveBeenCalledTimes(2);
  });

  it('names the dedup store when it is what is slow', async () => {
    const a = target('a', () => Promise.resolve('published'));
    const dedup = new MemoryDedupStore(60_000, 10);
    dedup.has = () => new Promise<boolean>(() => undefined);
    const sut = new PublishService([a], dedup, config(60, 50), metrics);
    await expect(sut.publish(update(31))).rejects.toThrow(
      new PublishError('dedup', 'no confirmation within 50 ms'),
    );
    expect(a.publish).not.toHaveBeenCalled();
  });

  it('rejects within PUBLISH_TIMEOUT_MS when a target never confirms', async () => {
    const a = target('a', () => new Promise<PublishResult>(() => undefined));
    const sut = new PublishService([a], new MemoryDedupStore(60_000, 10), config(60, 50), metrics);
    const started = Date.now();
    await expect(sut.publish(update(3))).rejects.toThrow(/no confirmation within 50 ms/);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('makes concurrent copies wait for the publish under way instead of publishing again', async () => {
    let release!: () => void;
    const a = target(
      'a',
      () => new Promise<PublishResult>((resolve) => (release = () => resolve('published'))),
    );
    const sut = new PublishService([a], new MemoryDedupStore(60_000, 10), config(60, 1000), metrics);
    const copies = Array.from({ length: 5 }, () => sut.publish(update(4)));
    // Every copy has come in once the first one's publish is under way (then release exists).
    while (jest.mocked(a.publish).mock.calls.length === 0) await new Promise(setImmediate);
    release();
    await expect(Promise.all(copies)).resolves.toEqual([
      'published',
      'duplicate',
      'duplicate',
      'duplicate',
      'duplicate',
    ]);
    expect(a.publish).toHaveBeenCalledTimes(1);
  });

  it('routes by update type and skips the seen-mark when every target deduplicates itself', async () => {
    const payments = target('payments', () => Promise.resolve('published'), {
      types: new Set(['pre_checkout_query']),
    });
    const queue = target('queue', () => Promise.resolve('duplicate'), { deduplicates: true });
    const dedup = new MemoryDedupStore(60_000, 10);
    const sut = new PublishService([payments, queue], dedup, config(), metrics);
    await expect(sut.publish(update(5, 'message'))).resolves.toBe('duplicate');
    expect(payments.publish).not.toHaveBeenCalled();
    expect(dedup.size).toBe(0);
    await expect(sut.publish(update(6, 'pre_checkout_query'))).resolves.toBe('published');
    expect(payments.publish).toHaveBeenCalledTimes(1);
  });

  it('routes kinds it has never seen by their real name, and keeps the route cache bounded', () => {
    const noFilter = target('all', () => Promise.resolve('published'));
    const fresh = target('fresh', () => Promise.resolve('published'), { types: new Set(['new_kind']) });
    const messages = target('messages', () => Promise.resolve('published'), { types: new Set(['message']) });
    const sut = new PublishService(
      [noFilter, fresh, messages],
      new MemoryDedupStore(0, 10),
      config(0),
      metrics,
    );
    const routed = {
      ...bot,
      index: 3,
      routes: new Map([['messages', new Set(['routed_kind'])]]),
    } as BotIdentity;
    const to = (type: string, of: BotIdentity = bot) =>
      sut.targetsFor({ ...update(1, type), bot: of }).map((t) => t.name);

    for (let i = 0; i < 1000; i++) expect(to(`k${i}`)).toEqual(['all']);
    for (let i = 0; i < 1000; i++) expect(to(`k${i}`, routed)).toEqual(['all']);
    // Named by a filter or a bot's route, an unknown kind still goes where that names it.
    expect(to('new_kind')).toEqual(['all', 'fresh']);
    expect(to('routed_kind')).toEqual(['all']);
    expect(to('routed_kind', routed)).toEqual(['all', 'messages']);
    expect(to('new_kind', routed)).toEqual(['all', 'fresh']);
    expect(to('message')).toEqual(['all', 'messages']);
    expect(to('message', routed)).toEqual(['all']);

    const cache = (sut as unknown as { routes: PerBotKind<unknown> }).routes;
    expect([cache.size(0), cache.size(3)]).toEqual([2, 3]);
  });

  it('publishes every copy when dedup is off (DEDUP_TTL_SECONDS=0)', async () => {
    const a = target('a', () => Promise.resolve('published'));
    const sut = new PublishService([a], new MemoryDedupStore(0, 10), config(0), metrics);
    await sut.publish(update(7));
    await sut.publish(update(7));
    expect(a.publish).toHaveBeenCalledTimes(2);
  });
});
