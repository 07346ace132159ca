import type { PerBotKind } from '../common/per-bot-kind.js';
import { TELEGRAM_UPDATE_KINDS } from '../common/update-kinds.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import type { BotIdentity } from '../bots/bot.js';
import { MetricsService, PER_BOT_SERIES_LIMIT, type WebhookGaugeState } from './metrics.service.js';

const config = { settings: { METRICS_ENABLED: true } } as unknown as ReceiverConfig;
const bot = { index: 1, idText: '42' } as BotIdentity;
const other = { index: 2, idText: '43' } as BotIdentity;

/** The exposition lines of one metric, without its HELP and TYPE lines. */
async function series(sut: MetricsService, name: string): Promise<string[]> {
  const text = await sut.scrape();
  return text.split('\n').filter((line) => line.startsWith(`telegram_receiver_${name}{`));
}

describe('MetricsService', () => {
  it("counts Telegram's kinds under their own name and every other kind under `other`", async () => {
    const sut = new MetricsService(config);
    for (const type of ['message', 'k1', 'message', 'k2', 'brand_new_kind']) {
      sut.updateReceived(bot, type);
      sut.updatePublished(bot, type, 'redis', 0.001);
    }
    for (const type of ['k3', 'callback_query']) {
      sut.updateReceived(bot, type);
      sut.updateDuplicate(bot, type);
    }
    sut.updateReceived(other, 'k1');

    expect(await series(sut, 'updates_received_total')).toEqual([
      'telegram_receiver_updates_received_total{bot="42",type="message"} 2',
      'telegram_receiver_updates_received_total{bot="42",type="other"} 4',
      'telegram_receiver_updates_received_total{bot="42",type="callback_query"} 1',
      'telegram_receiver_updates_received_total{bot="43",type="other"} 1',
    ]);
    expect(await series(sut, 'updates_published_total')).toEqual([
      'telegram_receiver_updates_published_total{bot="42",type="message",target="redis"} 2',
      'telegram_receiver_updates_published_total{bot="42",type="other",target="redis"} 3',
    ]);
    expect(await series(sut, 'updates_duplicate_total')).toEqual([
      'telegram_receiver_updates_duplicate_total{bot="42",type="other"} 1',
      'telegram_receiver_updates_duplicate_total{bot="42",type="callback_query"} 1',
    ]);
  });

  it("keeps cells for Telegram's kinds and `other` only, however many kinds arrive", async () => {
    const sut = new MetricsService(config);
    for (const type of TELEGRAM_UPDATE_KINDS) sut.updateReceived(bot, type);
    for (let i = 0; i < 10_000; i++) {
      sut.updateReceived(bot, `k${i}`);
      sut.updatePublished(bot, `k${i}`, 'redis', 0.001);
      sut.updateDuplicate(bot, `k${i}`);
    }

    const tallies = (sut as unknown as { tallies: PerBotKind<unknown> }).tallies;
    expect(tallies.size(bot.index)).toBe(TELEGRAM_UPDATE_KINDS.size + 1);
    expect(await series(sut, 'updates_received_total')).toHaveLength(TELEGRAM_UPDATE_KINDS.size + 1);
    expect(await series(sut, 'updates_received_total')).toContain(
      'telegram_receiver_updates_received_total{bot="42",type="other"} 10000',
    );
    expect(await series(sut, 'updates_published_total')).toEqual([
      'telegram_receiver_updates_published_total{bot="42",type="other",target="redis"} 10000',
    ]);
  });

  describe('METRICS_PER_BOT', () => {
    const withPerBot = (perBot?: boolean): ReceiverConfig =>
      ({ settings: { METRICS_ENABLED: true, METRICS_PER_BOT: perBot } }) as unknown as ReceiverConfig;
    /** A registry whose size the test sets, as bots are added and removed. */
    const served = (size: number): { size: number } => ({ size });
    const bots = (n: number): BotIdentity[] =>
      Array.from({ length: n }, (_, i) => ({ index: i + 1, idText: String(100 + i) }) as BotIdentity);
    const count = (sut: MetricsService, all: BotIdentity[]): void => {
      for (const b of all) {
        sut.updateReceived(b, 'message');
        sut.updatePublished(b, 'message', 'redis', 0.001);
        sut.updateDuplicate(b, 'message');
        sut.requestRejected(b.idText, 'secret');
      }
      sut.requestRejected('', 'unknown_path');
    };

    it('false: every bot is counted in one series per kind, bot="all"', async () => {
      const sut = new MetricsService(withPerBot(false), served(2));
      count(sut, bots(2));

      expect(await series(sut, 'updates_received_total')).toEqual([
        'telegram_receiver_updates_received_total{bot="all",type="message"} 2',
      ]);
      expect(await series(sut, 'updates_published_total')).toEqual([
        'telegram_receiver_updates_published_total{bot="all",type="message",target="redis"} 2',
      ]);
      expect(await series(sut, 'updates_duplicate_total')).toEqual([
        'telegram_receiver_updates_duplicate_total{bot="all",type="message"} 2',
      ]);
      expect(await series(sut, 'updates_rejected_total')).toEqual([
        'telegram_receiver_updates_rejected_total{bot="all",reason="secret"} 2',
        'telegram_receiver_updates_rejected_total{bot="",reason="unknown_path"} 1',
      ]);
    });

    it('false: 10,000 bots share the cached cells of slot 0 (none kept per bot)', () => {
      const sut = new MetricsService(withPerBot(false), served(10_000));
      count(sut, bots(10_000));
      const tallies = (sut as unknown as { tallies: PerBotKind<unknown> }).tallies;
      expect(tallies.size(0)).toBe(1);
      expect(tallies.size(1)).toBe(0);
      expect(tallies.size(10_000)).toBe(0);
    });

    it('true: per-bot series however many bots are served', async () => {
      const sut = new MetricsService(withPerBot(true), served(PER_BOT_SERIES_LIMIT + 1));
      count(sut, bots(2));
      expect(await series(sut, 'updates_received_total')).toEqual([
        'telegram_receiver_updates_received_total{bot="100",type="message"} 1',
        'telegram_receiver_updates_received_total{bot="101",type="message"} 1',
      ]);
    });

    it('unset: per bot below 1,000 bots, folded into bot="all" at 1,000, per bot again below', async () => {
      const registry = served(PER_BOT_SERIES_LIMIT - 1);
      const sut = new MetricsService(withPerBot(undefined), registry);
      const two = bots(2);
      count(sut, two);
      expect(await series(sut, 'updates_received_total')).toEqual([
        'telegram_receiver_updates_received_total{bot="100",type="message"} 1',
        'telegram_receiver_updates_received_total{bot="101",type="message"} 1',
      ]);

      // A bot added: the counts so far move into the aggregate, so its sum goes on from them.
      registry.size = PER_BOT_SERIES_LIMIT;
      expect(await series(sut, 'updates_received_total')).toEqual([
        'telegram_receiver_updates_received_total{bot="all",type="message"} 2',
      ]);
      count(sut, two);
      expect(await series(sut, 'updates_received_total')).toEqual([
        'telegram_receiver_updates_received_total{bot="all",type="message"} 4',
      ]);
      expect(await series(sut, 'updates_published_total')).toEqual([
        'telegram_receiver_updates_published_total{bot="all",type="message",target="redis"} 4',
      ]);
      expect(await series(sut, 'updates_rejected_total')).toEqual([
        'telegram_receiver_updates_rejected_total{bot="",reason="unknown_path"} 2',
        'telegram_receiver_updates_rejected_total{bot="all",reason="secret"} 4',
      ]);

      // Below the limit again: per-bot series from 0; the aggregate stays, no longer counted in.
      registry.size = PER_BOT_SERIES_LIMIT - 1;
      count(sut, [two[0] as BotIdentity]);
      expect(await series(sut, 'updates_received_total')).toEqual([
        'telegram_receiver_updates_received_total{bot="all",type="message"} 4',
        'telegram_receiver_updates_received_total{bot="100",type="message"} 1',
      ]);
    });

    it('the webhook gauges: per bot, or how many are registered, pending in all, the latest error', async () => {
      const states = new Map<number, WebhookGaugeState>([
        [7, { registered: true, pendingUpdateCount: 3, lastErrorDate: 1700000000 }],
        [8, { registered: false, pendingUpdateCount: 4 }],
        [9, { registered: true }],
      ]);
      const registry = served(3);
      const sut = new MetricsService(withPerBot(undefined), registry);
      sut.watchWebhooks(states);
      expect(await series(sut, 'webhook_registered')).toEqual([
        'telegram_receiver_webhook_registered{bot="7"} 1',
        'telegram_receiver_webhook_registered{bot="8"} 0',
        'telegram_receiver_webhook_registered{bot="9"} 1',
      ]);
      expect(await series(sut, 'webhook_pending_updates')).toEqual([
        'telegram_receiver_webhook_pending_updates{bot="7"} 3',
        'telegram_receiver_webhook_pending_updates{bot="8"} 4',
      ]);
      expect(await series(sut, 'webhook_last_error_timestamp_seconds')).toEqual([
        'telegram_receiver_webhook_last_error_timestamp_seconds{bot="7"} 1700000000',
        'telegram_receiver_webhook_last_error_timestamp_seconds{bot="8"} 0',
      ]);

      registry.size = PER_BOT_SERIES_LIMIT;
      expect(await series(sut, 'webhook_registered')).toEqual([
        'telegram_receiver_webhook_registered{bot="all"} 2',
      ]);
      expect(await series(sut, 'webhook_pending_updates')).toEqual([
        'telegram_receiver_webhook_pending_updates{bot="all"} 7',
      ]);
      expect(await series(sut, 'webhook_last_error_timestamp_seconds')).toEqual([
        'telegram_receiver_webhook_last_error_timestamp_seconds{bot="all"} 1700000000',
      ]);
    });
  });
});
