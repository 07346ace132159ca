import { Inject, Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { packageVersion } from '../common/package-version.js';
import { PerBotKind } from '../common/per-bot-kind.js';
import { metricKind } from '../common/update-kinds.js';
import type { BotIdentity } from '../bots/bot.js';
import { FastCounter, FastHistogram, type MetricValue } from './tally.js';

/** Why a webhook request was not published. */
export type RejectReason =
  | 'subnet'
  | 'unknown_path'
  | 'secret'
  | 'too_large'
  | 'bad_request'
  | 'timeout'
  | 'aborted'
  | 'publish_failed'
  | 'shutting_down';

const PREFIX = 'telegram_receiver_';

/** What metrics need of a publishing target (metrics/ does not import publisher/). */
export interface WatchedTarget {
  readonly name: string;
  health(): { readonly up: boolean };
}

/**
 * The counter cells of one bot and update kind label (`kind`: Telegram's kind or `other`);
 * `duplicate` is made on the first duplicate.
 */
interface KindTally {
  readonly kind: string;
  readonly received: MetricValue;
  duplicate?: MetricValue;
  readonly published: Map<string, MetricValue>;
}

/**
 * Prometheus metrics (prom-client) in a registry of this application's own. What is counted on
 * every update is counted in plain maps and formatted only when scraped.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly enabled: boolean;

  // The three counted on every update are FastCounters (see tally.ts); the rest are prom-client's.
  private readonly received = new FastCounter(
    `${PREFIX}updates_received_total`,
    'Updates received with a valid secret and body, by bot and update type.',
    ['bot', 'type'],
  ).register(this.registry);
  private readonly published = new FastCounter(
    `${PREFIX}updates_published_total`,
    'Updates confirmed by a target, by bot, update type and target.',
    ['bot', 'type', 'target'],
  ).register(this.registry);
  private readonly duplicates = new FastCounter(
    `${PREFIX}updates_duplicate_total`,
    'Redelivered updates answered 200 without publishing again, by bot and update type.',
    ['bot', 'type'],
  ).register(this.registry);
  private readonly rejected = new Counter({
    name: `${PREFIX}updates_rejected_total`,
    help: 'Webhook requests answered with an error, by bot (when known) and reason.',
    labelNames: ['bot', 'reason'] as const,
    registers: [this.registry],
  });
  private readonly failures = new Counter({
    name: `${PREFIX}publish_failures_total`,
    help: 'Publishes a target failed or did not confirm in time, by target.',
    labelNames: ['target'] as const,
    registers: [this.registry],
  });
  private readonly latency = new FastHistogram(
    `${PREFIX}publish_duration_seconds`,
    'Time from publish to the target confirming it, by target.',
    'target',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  ).register(this.registry);
  readonly webhookPending = new Gauge({
    name: `${PREFIX}webhook_pending_updates`,
    help: 'pending_update_count from getWebhookInfo, by bot (refreshed by the reconciler).',
    labelNames: ['bot'] as const,
    registers: [this.registry],
  });
  readonly webhookLastError = new Gauge({
    name: `${PREFIX}webhook_last_error_timestamp_seconds`,
    help: 'last_error_date from getWebhookInfo (0 when none), by bot.',
    labelNames: ['bot'] as const,
    registers: [this.registry],
  });
  readonly webhookRegistered = new Gauge({
    name: `${PREFIX}webhook_registered`,
    help: '1 when the webhook is set to this service’s URL, by bot.',
    labelNames: ['bot'] as const,
    registers: [this.registry],
  });

  private readonly buildInfo = new Gauge({
    name: `${PREFIX}build_info`,
    help: 'Always 1; the labels say which build runs.',
    labelNames: ['version', 'node'] as const,
    registers: [this.registry],
  });

  /** Counter cells by bot and kind label: Telegram's kinds and `other` (see `tally`). */
  private readonly tallies = new PerBotKind<KindTally>();

  constructor(@Inject(RECEIVER_CONFIG) config: ReceiverConfig) {
    this.enabled = config.settings.METRICS_ENABLED;
    if (!this.enabled) return;
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
    this.buildInfo.labels(packageVersion(), process.version).set(1);
  }

  /**
   * The targets in use: each gets its publish_failures_total series at 0 from the start (an alert
   * on `rate()` needs the zero), and a target_up gauge read from its health at each scrape.
   */
  watchTargets(targets: readonly WatchedTarget[]): void {
    if (!this.enabled) return;
    for (const target of targets) this.failures.labels(target.name).inc(0);
    new Gauge({
      name: `${PREFIX}target_up`,
      help: '1 when the target is connected and taking updates, 0 when not, by target.',
      labelNames: ['target'] as const,
      registers: [this.registry],
      collect() {
        for (const target of targets) {
          let up = false;
          try {
            up = target.health().up;
          } catch {
            up = false;
          }
          this.labels(target.name).set(up ? 1 : 0);
        }
      },
    });
  }

  updateReceived(bot: BotIdentity, type: string): void {
    if (this.enabled) this.tally(bot, type).received.value++;
  }

  updateDuplicate(bot: BotIdentity, type: string): void {
    if (!this.enabled) return;
    const tally = this.tally(bot, type);
    (tally.duplicate ??= this.duplicates.cell(bot.idText, tally.kind)).value++;
  }

  updatePublished(bot: BotIdentity, type: string, target: string, seconds: number): void {
    if (!this.enabled) return;
    const tally = this.tally(bot, type);
    let cell = tally.published.get(target);
    if (!cell) tally.published.set(target, (cell = this.published.cell(bot.idText, tally.kind, target)));
    cell.value++;
    this.latency.observe(target, seconds);
  }

  /** The cells one bot's updates of one kind are counted in. */
  private tally(bot: BotIdentity, type: string): KindTally {
    return this.tallies.find(bot.index, type) ?? this.labelledTally(bot, metricKind(type));
  }

  /**
   * Kept under the label, not the kind: every kind Telegram does not list shares the bot's
   * `other` cells, so neither the series nor this cache grow with the kind names input brings.
   */
  private labelledTally(bot: BotIdentity, kind: string): KindTally {
    return (
      this.tallies.find(bot.index, kind) ??
      this.tallies.keep(bot.index, kind, {
        kind,
        received: this.received.cell(bot.idText, kind),
        published: new Map(),
      })
    );
  }

  publishFailed(target: string): void {
    if (this.enabled) this.failures.labels(target).inc();
  }

  requestRejected(bot: string, reason: RejectReason): void {
    if (this.enabled) this.rejected.labels(bot, reason).inc();
  }
}
