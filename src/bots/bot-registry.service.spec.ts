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
    expect(bot.secretBytes.equals(Buffer.from('s3'))).toBe(true);
  });

  it('finds a bot by its path, with or without the slash and query string', () => {
    const sut = new BotRegistry();
    const bot = sut.add(config(1), 1);
    expect(sut.findByPath('/b1')).toBe(bot);
    expect(sut.findByPath('b1?x=1')).toBe(bot);
    expect(sut.findByPath('/b2')).toBeUndefined();
  });
});
