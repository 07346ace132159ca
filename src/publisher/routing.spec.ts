import { jest } from '@jest/globals';
import type { BotConfig, BotRoutes } from '../config/bots.js';
import type { InboundUpdate, PublishResult, UpdatePublisher } from './publisher.interface.js';
import { applyBotRoutes } from './routing.js';

class QueuePublisher implements UpdatePublisher {
  readonly deduplicates = true;
  readonly publish = jest.fn((_update: InboundUpdate): Promise<PublishResult> =>
    Promise.resolve('published'),
  );
  constructor(
    readonly name: string,
    readonly types?: ReadonlySet<string>,
  ) {}
  health(): { up: boolean } {
    return { up: this.name !== 'down' };
  }
  /** Something only this plug-in has. */
  queueDepth(): number {
    return 7;
  }
}

const botConfig = (source: string, routes?: BotRoutes): BotConfig => ({
  index: 1,
  source,
  token: 't',
  endpoint: source,
  secret: 's',
  routes,
});
const update = (config: BotConfig, type: string): InboundUpdate => ({
  bot: { ...config, id: 1, idText: '1', label: 'bot', secretBytes: Buffer.alloc(0) },
  updateId: 1,
  type,
  raw: Buffer.from('{}'),
  payload: Buffer.from('{}'),
  receivedAt: 0,
});

describe('applyBotRoutes', () => {
  it('returns publishers untouched when no bot re-routes them', () => {
    const amqp = new QueuePublisher('amqp', new Set(['pre_checkout_query']));
    const redis = new QueuePublisher('redis');
    const sut = applyBotRoutes([amqp, redis], [botConfig('a', new Map([['redis', 'all']]))]);
    expect(sut[0]).toBe(amqp);
    expect(sut[1]).not.toBe(redis);
  });

  it("routes per bot: the bot's route if it has one, the target's own filter otherwise", async () => {
    const amqp = new QueuePublisher('amqp', new Set(['pre_checkout_query']));
    const shop = botConfig('shop', new Map([['amqp', new Set(['message'])]]));
    const all = botConfig('all', new Map([['amqp', 'all' as const]]));
    const none = botConfig('none', new Map([['amqp', new Set<string>()]]));
    const plain = botConfig('plain');
    const [sut] = applyBotRoutes([amqp], [shop, all, none, plain]) as [UpdatePublisher];

    // PublishService must let every kind through: the decision is per bot, made here.
    expect(sut.types).toBeUndefined();
    await expect(sut.publish(update(shop, 'message'))).resolves.toBe('published');
    await expect(sut.publish(update(shop, 'pre_checkout_query'))).resolves.toBe('duplicate');
    await expect(sut.publish(update(all, 'callback_query'))).resolves.toBe('published');
    await expect(sut.publish(update(none, 'message'))).resolves.toBe('duplicate');
    await expect(sut.publish(update(plain, 'pre_checkout_query'))).resolves.toBe('published');
    await expect(sut.publish(update(plain, 'message'))).resolves.toBe('duplicate');
    expect(amqp.publish.mock.calls.map(([u]) => `${u.bot.source}/${u.type}`)).toEqual([
      'shop/message',
      'all/callback_query',
      'plain/pre_checkout_query',
    ]);
  });

  it('keeps everything else of the publisher: name, dedup flag, health, own members, class', () => {
    const down = new QueuePublisher('down');
    const [sut] = applyBotRoutes([down], [botConfig('a', new Map([['down', 'all']]))]) as [QueuePublisher];
    expect(sut).toBeInstanceOf(QueuePublisher);
    expect(sut.name).toBe('down');
    expect(sut.deduplicates).toBe(true);
    expect(sut.health()).toEqual({ up: false });
    expect(sut.queueDepth()).toBe(7);
  });

  it('refuses routes to targets that are not in use, listing those that are', () => {
    const bots = [
      botConfig('BOTS_FILE entry 1', new Map([['kafka', 'all']])),
      botConfig('BOTS_FILE entry 2', new Map([['redis', 'all']])),
    ];
    expect(() => applyBotRoutes([new QueuePublisher('redis'), new QueuePublisher('mqtt')], bots)).toThrow(
      'Invalid BOTS_FILE routes:\n  - BOTS_FILE entry 1: routes names target(s) kafka that are not in use; targets in use: redis, mqtt',
    );
  });
});
