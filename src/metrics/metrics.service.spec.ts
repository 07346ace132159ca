import type { PerBotKind } from '../common/per-bot-kind.js';
import { TELEGRAM_UPDATE_KINDS } from '../common/update-kinds.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import type { BotIdentity } from '../bots/bot.js';
import { MetricsService } from './metrics.service.js';

const config = { settings: { METRICS_ENABLED: true } } as unknown as ReceiverConfig;
const bot = { index: 1, idText: '42' } as BotIdentity;
const other = { index: 2, idText: '43' } as BotIdentity;

/** The exposition lines of one metric, without its HELP and TYPE lines. */
async function series(sut: MetricsService, name: string): Promise<string[]> {
  const text = await sut.registry.metrics();
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
});
