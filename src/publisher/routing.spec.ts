import { jest } from '@jest/globals';
import type { BotConfig, BotRoutes } from '../config/bots.js';
import type { InboundUpdate, PublishResult, UpdatePublisher } from './publisher.interface.js';
import { inboundUpdate } from '../../test/support/inbound-update.js';
import { routesTo, validateBotRoutes } from './routing.js';

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
const update = (config: BotConfig, type: string): InboundUpdate =>
  inboundUpdate(1, type, {
    bot: { index: config.index, id: 1, idText: '1', label: 'bot', routes: config.routes },
  });

describe('routesTo', () => {
  it("routes per bot: the bot's route if it has one, the target's own filter otherwise", () => {
    const amqp = new QueuePublisher('amqp', new Set(['pre_checkout_query']));
    const redis = new QueuePublisher('redis');
    const shop = botConfig('shop', new Map([['amqp', new Set(['message'])]]));
    const all = botConfig('all', new Map([['amqp', 'all' as const]]));
    const none = botConfig('none', new Map([['amqp', new Set<string>()]]));
    const plain = botConfig('plain');
    expect(routesTo(amqp, update(shop, 'message'))).toBe(true);
    expect(routesTo(amqp, update(shop, 'pre_checkout_query'))).toBe(false);
    expect(routesTo(amqp, update(all, 'callback_query'))).toBe(true);
    expect(routesTo(amqp, update(none, 'message'))).toBe(false);
    expect(routesTo(amqp, update(plain, 'pre_checkout_query'))).toBe(true);
    expect(routesTo(amqp, update(plain, 'message'))).toBe(false);
    // A target the bot does not name keeps its own filter (here: every kind).
    expect(routesTo(redis, update(shop, 'callback_query'))).toBe(true);
  });
});

describe('validateBotRoutes', () => {
  it('accepts routes to targets in use', () => {
    expect(() =>
      validateBotRoutes([new QueuePublisher('redis')], [botConfig('a', new Map([['redis', 'all']]))]),
    ).not.toThrow();
  });

  it('refuses routes to targets that are not in use, listing those that are', () => {
    const bots = [
      botConfig('BOTS_FILE entry 1', new Map([['kafka', 'all']])),
      botConfig('BOTS_FILE entry 2', new Map([['redis', 'all']])),
    ];
    expect(() => validateBotRoutes([new QueuePublisher('redis'), new QueuePublisher('mqtt')], bots)).toThrow(
      'Invalid BOTS_FILE routes:\n  - BOTS_FILE entry 1: routes names target(s) kafka that are not in use; targets in use: redis, mqtt',
    );
  });
});
