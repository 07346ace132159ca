/**
 * METRICS_PER_BOT, as Prometheus scrapes it: a `bot` label per bot, or one `bot="all"` series per
 * kind (the default from 1,000 bots on is checked by bots-scale.e2e-spec.ts).
 */
import { startApp, writeBotsFile } from './support/app.js';
import { SinkPublisher } from './support/sink-publisher.js';
import { FakeBotApi, realisticUpdate } from './support/fake-bot-api.js';

const BOTS = [
  { token: '730001:AAH_metrics-per-bot-one', id: 730001, username: 'one_bot' },
  { token: '730002:AAH_metrics-per-bot-two', id: 730002, username: 'two_bot' },
  { token: '730003:AAH_metrics-per-bot-three', id: 730003, username: 'three_bot' },
];

describe('METRICS_PER_BOT', () => {
  let api: FakeBotApi;
  const file = writeBotsFile(
    `bots:\n${BOTS.map((bot, i) => `  - token: "${bot.token}"\n    endpoint: m${i}\n    secret: metrics_secret_${i}\n`).join('')}`,
  );

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: BOTS });
  });
  afterAll(async () => {
    await api?.close();
  });

  /** /metrics after one update to each bot and one with a wrong secret. */
  async function scrapeAfterUpdates(env: Record<string, string>): Promise<string> {
    const sut = await startApp(
      { BOTS_FILE: file, TELEGRAM_API_URL: api.url, TELEGRAM_SET_WEBHOOK: 'false', ...env },
      { publishers: [SinkPublisher] },
    );
    try {
      const post = (path: string, secret: string, id: number) =>
        sut.app.inject({
          method: 'POST',
          url: `/${path}`,
          headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
          payload: JSON.stringify(realisticUpdate(id)),
        });
      for (let i = 0; i < BOTS.length; i++)
        expect((await post(`m${i}`, `metrics_secret_${i}`, i + 1)).statusCode).toBe(200);
      expect((await post('m0', 'metrics_secret_1', 9)).statusCode).toBe(401);
      return (await sut.app.inject({ method: 'GET', url: '/metrics' })).body;
    } finally {
      await sut.close();
    }
  }

  const lines = (body: string, name: string): string[] =>
    body.split('\n').filter((line) => line.startsWith(`telegram_receiver_${name}{`));

  it('unset, with fewer than 1,000 bots: a series per bot', async () => {
    const body = await scrapeAfterUpdates({});
    expect(lines(body, 'updates_received_total')).toEqual(
      BOTS.map((bot) => `telegram_receiver_updates_received_total{bot="${bot.id}",type="message"} 1`),
    );
    expect(lines(body, 'updates_rejected_total')).toEqual([
      'telegram_receiver_updates_rejected_total{bot="730001",reason="secret"} 1',
    ]);
  });

  it('false: one series per kind for every bot, bot="all"', async () => {
    const body = await scrapeAfterUpdates({ METRICS_PER_BOT: 'false' });
    expect(lines(body, 'updates_received_total')).toEqual([
      'telegram_receiver_updates_received_total{bot="all",type="message"} 3',
    ]);
    expect(lines(body, 'updates_published_total')).toEqual([
      'telegram_receiver_updates_published_total{bot="all",type="message",target="sink"} 3',
    ]);
    expect(lines(body, 'updates_rejected_total')).toEqual([
      'telegram_receiver_updates_rejected_total{bot="all",reason="secret"} 1',
    ]);
  });

  it('refuses a value that is not a boolean, naming the setting', async () => {
    await expect(scrapeAfterUpdates({ METRICS_PER_BOT: 'sometimes' })).rejects.toThrow(
      /METRICS_PER_BOT must be true or false/,
    );
  });
});
