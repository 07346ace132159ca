import { Inject, Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';

/** Why a webhook request was not published. */
export type RejectReason =
  'subnet' | 'unknown_path' | 'secret' | 'too_large' | 'bad_request' | 'publish_failed' | 'shutting_down';

const PREFIX = 'telegram_receiver_';

/**
 * Prometheus metrics (prom-client) in a registry of this application's own. Label children are
 * cached, so counting on the hot path is a map lookup and an add.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly enabled: boolean;

  private readonly received = new Counter({
    name: `${PREFIX}updates_received_total`,
    help: 'Updates received with a valid secret and body, by bot and update type.',
    labelNames: ['bot', 'type'] as const,
    registers: [this.registry],
  });
  private readonly published = new Counter({
    name: `${PREFIX}updates_published_total`,
    help: 'Updates confirmed by a target, by bot, update type and target.',
    labelNames: ['bot', 'type', 'target'] as const,
    registers: [this.registry],
  });
  private readonly duplicates = new Counter({
    name: `${PREFIX}updates_duplicate_total`,
    help: 'Redelivered updates answered 200 without publishing again, by bot and update type.',
    labelNames: ['bot', 'type'] as const,
    registers: [this.registry],
  });
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
  private readonly latency = new Histogram({
    name: `${PREFIX}publish_duration_seconds`,
    help: 'Time from publish to the target confirming it, by target.',
    labelNames: ['target'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
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

  /** Label children by metric, bot and kind: counting is two map lookups and an add, no string building. */
  private readonly children = new Map<string, Map<string, Map<string, unknown>>>();

  constructor(@Inject(RECEIVER_CONFIG) config: ReceiverConfig) {
    this.enabled = config.settings.METRICS_ENABLED;
    if (this.enabled) collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
  }

  updateReceived(bot: string, type: string): void {
    if (this.enabled) this.child('received', bot, type, () => this.received.labels(bot, type)).inc();
  }

  updateDuplicate(bot: string, type: string): void {
    if (this.enabled) this.child('duplicate', bot, type, () => this.duplicates.labels(bot, type)).inc();
  }

  updatePublished(bot: string, type: string, target: string, seconds: number): void {
    if (!this.enabled) return;
    this.child(target, bot, type, () => this.published.labels(bot, type, target)).inc();
    this.child('latency', target, '', () => this.latency.labels(target)).observe(seconds);
  }

  publishFailed(target: string): void {
    if (this.enabled) this.failures.labels(target).inc();
  }

  requestRejected(bot: string, reason: RejectReason): void {
    if (this.enabled) this.rejected.labels(bot, reason).inc();
  }

  private child<T>(metric: string, a: string, b: string, create: () => T): T {
    let byA = this.children.get(metric);
    if (!byA) this.children.set(metric, (byA = new Map<string, Map<string, unknown>>()));
    let byB = byA.get(a);
    if (!byB) byA.set(a, (byB = new Map<string, unknown>()));
    let child = byB.get(b) as T | undefined;
    if (child === undefined) byB.set(b, (child = create()));
    return child;
  }
}
