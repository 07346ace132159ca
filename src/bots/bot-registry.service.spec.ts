import type { BotConfig } from '../config/bots.js';
import { BotRegistry } from './bot-registry.service.js';

const config = (index: number, extra: Partial<BotConfig> = {}): BotConfig => ({
  index,
  source: `BOTS_FILE entry ${index}`,
  token: `${700000 + index}:token${index}`,
  endpoint: `b${index}`,
  secret: `s${index}`,
  allowedUpdates: ['message'],
  redisQueue: `q${index}`,
  mqttTopic: `t/${index}`,
  kafkaTopic: `k.${index}`,
  routes: new Map([['redis', 'all' as const]]),
  ...extra,
});

describe('BotRegistry', () => {
  it('keeps every field of the bot configuration, and adds what getMe told', () => {
    const sut = new BotRegistry();
    const bot = sut.add(config(3), 42, 'shop_bot');
    // Bot objects are built field by field (one hidden class for all): none may be forgotten.
    for (const [key, value] of Object.entries(config(3))) expect(bot).toHaveProperty(key, value);
    expect(bot).toMatchObject({
      id: 42,
      idText: '42',
      username: 'shop_bot',
      label: 'bot @shop_bot (BOTS_FILE entry 3)',
    });
    // What publishers see carries the bot's own queue and topics (bots added at runtime too).
    expect(bot.identity).toMatchObject({ redisQueue: 'q3', mqttTopic: 't/3', kafkaTopic: 'k.3' });
    expect(bot.secretBytes.equals(Buffer.from('s3'))).toBe(true);
  });

  it('finds a bot by its path, with or without the slash and query string', () => {
    const sut = new BotRegistry();
    const bot = sut.add(config(1), 1);
    expect(sut.findByPath('/b1')).toBe(bot);
    expect(sut.findByPath('b1?x=1')).toBe(bot);
    expect(sut.findByPath('/b2')).toBeUndefined();
  });

  it('swaps the table on a change: a bot found before its removal is the same object after', () => {
    const sut = new BotRegistry();
    const shop = sut.add(config(1), 1);
    const inFlight = sut.findByPath('/b1');
    const help = sut.create(config(2), 2);
    sut.apply({ add: [help], remove: [shop] });
    expect(sut.findByPath('/b1')).toBeUndefined();
    expect(sut.findByPath('/b2')).toBe(help);
    expect(inFlight).toBe(shop);
    expect(inFlight?.secret).toBe('s1');
    expect(sut.all()).toEqual([help]);
  });

  it('never hands an index to a second bot, nor to a new version of a bot', () => {
    const sut = new BotRegistry();
    const first = sut.add(config(1), 1);
    sut.add(config(2), 2);
    const changed = sut.create(config(1, { endpoint: 'moved' }), 1);
    const again = sut.create(config(1), 3);
    expect(first.index).toBe(1);
    expect(changed.index).toBe(3);
    expect(changed.identity.index).toBe(3);
    expect(again.index).toBe(4);
  });

  it('refuses a change that adds a bot already served or a path another bot keeps', () => {
    const sut = new BotRegistry();
    const shop = sut.add(config(1), 1);
    expect(sut.problems({ add: [sut.create(config(2, { source: 'the admin API' }), 1)] })).toEqual([
      'the admin API: this bot is already served (bot 1 (BOTS_FILE entry 1))',
    ]);
    expect(sut.problems({ add: [sut.create(config(3, { endpoint: 'b1' }), 3)] })[0]).toContain(
      'BOTS_FILE entry 3: webhook endpoint "b1" is already used by BOTS_FILE entry 1',
    );
    // Removed in the same change, its path and id are free again.
    expect(sut.problems({ add: [sut.create(config(4, { endpoint: 'b1' }), 1)], remove: [shop] })).toEqual([]);
  });
});
