/**
 * Start-up registration of many bots (issue #15, point 6): Bot API calls are bounded in number at
 * once, and a 429 for one bot holds back that bot alone, for its `retry_after`, while the others
 * go on registering.
 */
import { BOT_API_CONCURRENCY } from '../src/telegram/telegram.client.js';
import { startApp, writeBotsFile } from './support/app.js';
import { SinkPublisher } from './support/sink-publisher.js';
import { FakeBotApi, type FakeBot } from './support/fake-bot-api.js';

const BOTS = 300;
/** Each Bot API answer takes this long, so calls pile up to the bound. */
const API_DELAY_MS = 100;
const RETRY_AFTER_S = 3;

const bots: FakeBot[] = Array.from({ length: BOTS }, (_, i) => ({
  token: `${740_000_000 + i}:AAH_registration-scale-${i}`,
  id: 740_000_000 + i,
  username: `registration_${i}_bot`,
}));

describe(`registering ${BOTS} webhooks at start`, () => {
  let api: FakeBotApi;

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots, delayMs: API_DELAY_MS });
  });
  afterAll(async () => {
    await api?.close();
  });

  it(`makes at most ${BOT_API_CONCURRENCY} calls at once; a 429 for one bot delays only that bot`, async () => {
    const limited = bots[7] as FakeBot;
    api.failNext('setWebhook', { status: 429, retryAfter: RETRY_AFTER_S, token: limited.token });
    const file = writeBotsFile(
      `bots:\n${bots.map((bot, i) => `  - token: "${bot.token}"\n    endpoint: r${i}\n    secret: registration_secret_${i}\n`).join('')}`,
    );
    const sut = await startApp(
      {
        BOTS_FILE: file,
        TELEGRAM_API_URL: api.url,
        WEBHOOK_DOMAIN: 'scale.example.com',
        TELEGRAM_DELETE_WEBHOOK: 'false',
        WEBHOOK_RECONCILE_SECONDS: '0',
      },
      { publishers: [SinkPublisher] },
    );
    try {
      // Enough at once for 10,000 bots' calls at 50 ms each in 10 s, never more than the bound.
      expect(api.maxConcurrentCalls).toBeGreaterThan((10_000 * 50) / 10_000);
      expect(api.maxConcurrentCalls).toBeLessThanOrEqual(BOT_API_CONCURRENCY);

      // The limited bot: refused once, set again no sooner than retry_after.
      const [refused, retried, ...more] = api.calls('setWebhook', limited.token);
      expect(more).toEqual([]);
      expect(retried!.at - refused!.at).toBeGreaterThanOrEqual(RETRY_AFTER_S * 1000 - 50);
      expect(api.webhookInfo(limited.token).url).toBe('https://scale.example.com/r7');

      // Every other bot was set once, without waiting for it.
      const others = api.calls('setWebhook').filter((call) => call.token !== limited.token);
      expect(new Set(others.map((call) => call.token)).size).toBe(BOTS - 1);
      expect(others).toHaveLength(BOTS - 1);
      expect(others.filter((call) => call.at >= retried!.at)).toEqual([]);
    } finally {
      await sut.close();
    }
  }, 60_000);
});
