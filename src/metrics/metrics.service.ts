import { Inject, Injectable, Optional } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { packageVersion } from '../common/package-version.js';
import { PerBotKind } from '../common/per-bot-kind.js';
import { metricKind } from '../common/update-kinds.js';
import type { BotIdentity } from '../bots/bot.js';
import { ComputedGauge, FastCounter, FastHistogram, type MetricValue } from './tally.js';

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

/** How many bots are served (the BotRegistry's size). */
export interface BotCount {
  readonly size: number;
}

/**
 * With METRICS_PER_BOT unset, from this many bots served on every bot's updates are counted in
 * one series per kind (`bot="all"`): ten series per bot and kind make a scrape, and Prometheus'
 * memory, grow with every bot a platform adds.
 */
export const PER_BOT_SERIES_LIMIT = 1000;
/** The `bot` label of the series every bot is counted in when there are no per-bot series. */
export const ALL_BOTS = 'all';

/** What getWebhookInfo last said of one bot's webhook, as the webhook gauges need it. */
export interface WebhookGaugeState {
  readonly registered: boolean;
  /** Unset until getWebhookInfo was read (a setWebhook alone does not tell it). */
  readonly pendingUpdateCount?: number;
  readonly lastErrorDate?: number;
}

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
  /** The `bot` label: the bot's id, or `all`. */
  readonly bot: string;
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
  private readonly rejected = new FastCounter(
    `${PREFIX}updates_rejected_total`,
    'Webhook requests answered with an error, by bot (when known) and reason.',
    ['bot', 'reason'],
  ).register(this.registry);
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
  private readonly buildInfo = new Gauge({
    name: `${PREFIX}build_info`,
    help: 'Always 1; the labels say which build runs.',
    labelNames: ['version', 'node'] as const,
    registers: [this.registry],
  });

  /**
   * Counter cells by bot and kind label: Telegram's kinds and `other` (see `tally`); every bot's
   * in slot 0 while there are no per-bot series.
   */
  private tallies = new PerBotKind<KindTally>();
  /** METRICS_PER_BOT; unset: decided by the number of bots served (PER_BOT_SERIES_LIMIT). */
  private readonly perBotSetting?: boolean;
  private perBot: boolean;
  /** How many bots were served when `perBot` was last decided. */
  private botsSeen = 0;

  constructor(
    @Inject(RECEIVER_CONFIG) config: ReceiverConfig,
    @Optional() private readonly bots?: BotCount,
  ) {
    this.enabled = config.settings.METRICS_ENABLED;
    this.perBotSetting = config.settings.METRICS_PER_BOT;
    this.perBot = this.perBotSetting ?? true;
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

  /**
   * The webhook gauges, read from `states` (by bot id) at each scrape: one series per bot, or with
   * no per-bot series one `bot="all"` series each — how many webhooks are registered, the pending
   * updates of all bots, the latest error.
   */
  watchWebhooks(states: ReadonlyMap<number, WebhookGaugeState>): void {
    if (!this.enabled) return;
    const gauge = (
      name: string,
      help: string,
      value: (state: WebhookGaugeState) => number | undefined,
      aggregate: (a: number, b: number) => number,
    ): void => {
      new ComputedGauge(`${PREFIX}${name}`, help, 'bot', () => {
        const values: Array<[string, number]> = [];
        let all: number | undefined;
        const perBot = this.perBotNow();
        for (const [id, state] of states) {
          const v = value(state);
          if (v === undefined) continue;
          if (perBot) values.push([String(id), v]);
          else all = all === undefined ? v : aggregate(all, v);
        }
        if (all !== undefined) values.push([ALL_BOTS, all]);
        return values;
      }).register(this.registry);
    };
    const sum = (a: number, b: number): number => a + b;
    gauge(
      'webhook_registered',
      '1 when the webhook is set to this service’s URL, by bot (bot="all": how many are).',
      (state) => (state.registered ? 1 : 0),
      sum,
    );
    gauge(
      'webhook_pending_updates',
      'pending_update_count from getWebhookInfo, by bot (refreshed by the reconciler; bot="all": the sum).',
      (state) => state.pendingUpdateCount,
      sum,
    );
    gauge(
      'webhook_last_error_timestamp_seconds',
      'last_error_date from getWebhookInfo (0 when none), by bot (bot="all": the latest).',
      (state) => (state.pendingUpdateCount === undefined ? undefined : (state.lastErrorDate ?? 0)),
      Math.max,
    );
  }

  /** The Prometheus text of every metric, per bot or not as the bots served now decide. */
  scrape(): Promise<string> {
    this.perBotNow();
    return this.registry.metrics();
  }

  /** Whether series are per bot now; with METRICS_PER_BOT unset, decided again when the bot count changed. */
  perBotNow(): boolean {
    const count = this.bots?.size ?? 0;
    if (count !== this.botsSeen) this.decide(count);
    return this.perBot;
  }

  /**
   * Per-bot series folded into `bot="all"` when there are to be none (the sum over the series
   * stays what it was); back to per bot, the `all` series stay as they were, no longer counted in.
   * The cached cells are dropped either way: the next update of each kind takes the right one.
   */
  private decide(count: number): void {
    this.botsSeen = count;
    const perBot = this.perBotSetting ?? count < PER_BOT_SERIES_LIMIT;
    if (perBot === this.perBot) return;
    this.perBot = perBot;
    this.tallies = new PerBotKind<KindTally>();
    if (perBot) return;
    for (const counter of [this.received, this.published, this.duplicates, this.rejected])
      counter.fold(ALL_BOTS);
  }

  updateReceived(bot: BotIdentity, type: string): void {
    if (this.enabled) this.tally(bot, type).received.value++;
  }

  updateDuplicate(bot: BotIdentity, type: string): void {
    if (!this.enabled) return;
    const tally = this.tally(bot, type);
    (tally.duplicate ??= this.duplicates.cell(tally.bot, tally.kind)).value++;
  }

  updatePublished(bot: BotIdentity, type: string, target: string, seconds: number): void {
    if (!this.enabled) return;
    const tally = this.tally(bot, type);
    let cell = tally.published.get(target);
    if (!cell) tally.published.set(target, (cell = this.published.cell(tally.bot, tally.kind, target)));
    cell.value++;
    this.latency.observe(target, seconds);
  }

  /** The cells one bot's updates of one kind are counted in (every bot's in slot 0 without per-bot series). */
  private tally(bot: BotIdentity, type: string): KindTally {
    const slot = this.perBotNow() ? bot.index : 0;
    return (
      this.tallies.find(slot, type) ??
      this.labelledTally(slot, slot === 0 ? ALL_BOTS : bot.idText, metricKind(type))
    );
  }

  /**
   * Kept under the label, not the kind: every kind Telegram does not list shares the bot's
   * `other` cells, so neither the series nor this cache grow with the kind names input brings.
   */
  private labelledTally(slot: number, bot: string, kind: string): KindTally {
    return (
      this.tallies.find(slot, kind) ??
      this.tallies.keep(slot, kind, {
        bot,
        kind,
        received: this.received.cell(bot, kind),
        published: new Map(),
      })
    );
  }

  publishFailed(target: string): void {
    if (this.enabled) this.failures.labels(target).inc();
  }

  /** `bot`: the bot's id, or '' when the request named none (unknown path, before routing). */
  requestRejected(bot: string, reason: RejectReason): void {
    if (this.enabled) this.rejected.cell(bot === '' || this.perBotNow() ? bot : ALL_BOTS, reason).value++;
  }
}
