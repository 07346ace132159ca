import { Inject, Injectable, Logger } from '@nestjs/common';
import { errorMessage } from '../common/error-message.js';
import { PerBotKind } from '../common/per-bot-kind.js';
import { TELEGRAM_UPDATE_KINDS } from '../common/update-kinds.js';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { DedupStore } from './dedup.store.js';
import { Deadlines } from './deadlines.js';
import { PublishError } from './publish.error.js';
import { namesKind, routesTo } from './routing.js';
import { DEDUP_STORE, UPDATE_PUBLISHERS } from './publisher.constants.js';
import type { InboundUpdate, PublishResult, UpdatePublisher } from './publisher.interface.js';

/**
 * The one publishing interface the webhook talks to: routes an update to its targets, waits
 * until every one confirmed (bounded by PUBLISH_TIMEOUT_MS) and deduplicates on (bot, update_id).
 */
interface InFlight {
  readonly promise: Promise<PublishResult>;
  readonly delivery: Delivery;
  readonly startedAt: number;
}

/** After this long, a publish that has not settled no longer holds back its update's redeliveries. */
const STALE_IN_FLIGHT_MS = 60_000;

@Injectable()
export class PublishService {
  private readonly logger = new Logger(PublishService.name);
  private readonly timeoutMs: number;
  /** PUBLISH_TIMEOUT_MS of every publish under way, on one timer. */
  private readonly deadlines: Deadlines;
  private readonly dedupEnabled: boolean;
  /** Copies of an update that arrive while it is being published wait for that publish instead. */
  private readonly inFlight = new Map<string, InFlight>();
  /**
   * Targets by bot (slot 0: every bot without routes of its own) and update kind: Telegram's kinds
   * and those a filter or route names. Every other kind goes where the others do: one per slot.
   */
  private readonly routes = new PerBotKind<readonly UpdatePublisher[]>();
  private readonly unnamedKindRoutes: (readonly UpdatePublisher[] | undefined)[] = [];

  constructor(
    @Inject(UPDATE_PUBLISHERS) readonly publishers: readonly UpdatePublisher[],
    @Inject(DEDUP_STORE) private readonly dedup: DedupStore,
    @Inject(RECEIVER_CONFIG) config: ReceiverConfig,
    private readonly metrics: MetricsService,
  ) {
    this.timeoutMs = config.settings.PUBLISH_TIMEOUT_MS;
    this.deadlines = new Deadlines(this.timeoutMs);
    this.dedupEnabled = config.settings.DEDUP_TTL_SECONDS > 0;
    metrics.watchTargets(publishers);
  }

  /** The targets an update goes to: its bot's routes (BOTS_FILE), else each target's kind filter. */
  targetsFor(update: InboundUpdate): readonly UpdatePublisher[] {
    // Cached per kind: the hot path does two lookups instead of a filter. A bot with routes of its
    // own has its own cache; all the others share slot 0.
    const slot = update.bot.routes ? update.bot.index : 0;
    return this.routes.find(slot, update.type) ?? this.routeAndKeep(slot, update);
  }

  /**
   * Only Telegram's kinds and those the configuration names are kept by name: they are few. Any
   * other kind goes where every such kind goes, so they share one entry and cannot grow the cache.
   */
  private routeAndKeep(slot: number, update: InboundUpdate): readonly UpdatePublisher[] {
    if (TELEGRAM_UPDATE_KINDS.has(update.type) || namesKind(this.publishers, update)) {
      return this.routes.keep(slot, update.type, this.route(update));
    }
    return (this.unnamedKindRoutes[slot] ??= this.route(update));
  }

  private route(update: InboundUpdate): readonly UpdatePublisher[] {
    return this.publishers.filter((p) => routesTo(p, update));
  }

  /**
   * Resolves once every target holds the update (`duplicate` when it was already published);
   * rejects with PublishError otherwise — the caller answers 503 and Telegram resends.
   */
  publish(update: InboundUpdate): Promise<PublishResult> {
    const delivery = new Delivery(this.targetsFor(update));
    // Without dedup, or when every target deduplicates atomically itself (the Redis queue's claim
    // and enqueue), there is nothing to coordinate here: copies are settled by the target.
    if (!this.dedupEnabled || delivery.targets.every(deduplicatesItself)) {
      return this.guard(update, delivery, this.deliver(delivery, update));
    }
    const key = `${update.bot.idText}:${update.updateId}`;
    const running = this.inFlight.get(key);
    // A copy (Telegram's redelivery, or a concurrent duplicate) waits for the publish already
    // under way — even one whose first request timed out — instead of publishing again. One
    // stuck for longer than STALE_IN_FLIGHT_MS is given up on and published anew.
    if (running && Date.now() - running.startedAt < STALE_IN_FLIGHT_MS) {
      return this.guard(
        update,
        running.delivery,
        running.promise.then(() => 'duplicate' as const),
        false,
      );
    }
    const promise = this.publishOnce(key, delivery, update);
    const entry = { promise, delivery, startedAt: Date.now() };
    this.inFlight.set(key, entry);
    void promise.then(
      () => this.forget(key, entry),
      () => this.forget(key, entry),
    );
    return this.guard(update, delivery, promise);
  }

  private forget(key: string, entry: InFlight): void {
    if (this.inFlight.get(key) === entry) this.inFlight.delete(key);
  }

  private async publishOnce(key: string, delivery: Delivery, update: InboundUpdate): Promise<PublishResult> {
    // Reached only when some target does not deduplicate itself (see publish()): the update is
    // marked seen only after every target confirmed, so a failed publish is never taken for a duplicate.
    if (await this.dedup.has(update.bot.idText, update.updateId).catch(dedupFailed)) return 'duplicate';
    const result = await this.deliver(delivery, update);
    delivery.stage = 'marking';
    try {
      await this.dedup.add(update.bot.idText, update.updateId);
    } catch (error) {
      // Every target has the update: answer 200 anyway. A redelivery may be published again.
      this.logger.warn(`Could not mark update ${key} as seen: ${errorMessage(error)}`);
    }
    return result;
  }

  /** Publishes to every target; rejects with a PublishError naming the first target that failed. */
  private deliver(delivery: Delivery, update: InboundUpdate): Promise<PublishResult> {
    delivery.stage = 'publishing';
    const { targets } = delivery;
    // One target (the usual case) takes no extra promise.
    if (targets.length === 1) return this.deliverTo(targets[0] as UpdatePublisher, 0, delivery, update);
    return Promise.all(targets.map((t, i) => this.deliverTo(t, i, delivery, update))).then((results) =>
      results.length > 0 && results.every((r) => r === 'duplicate') ? 'duplicate' : 'published',
    );
  }

  private deliverTo(
    target: UpdatePublisher,
    position: number,
    delivery: Delivery,
    update: InboundUpdate,
  ): Promise<PublishResult> {
    const started = performance.now();
    let publishing: Promise<PublishResult>;
    try {
      publishing = target.publish(update);
    } catch (error) {
      // A plug-in that throws instead of rejecting.
      publishing = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return publishing.then(
      (result) => {
        delivery.answered(position);
        if (result === 'published') {
          const seconds = (performance.now() - started) / 1000;
          this.metrics.updatePublished(update.bot, update.type, target.name, seconds);
        }
        return result;
      },
      (error: unknown) => {
        delivery.answered(position);
        // Not counted a second time when it fails after PUBLISH_TIMEOUT_MS already counted it.
        if (!delivery.timedOut) this.metrics.publishFailed(target.name);
        return targetFailed(target, error);
      },
    );
  }

  /**
   * Bounds a publish by PUBLISH_TIMEOUT_MS. When time runs out, the PublishError names the targets
   * that had not confirmed (or the dedup store, when it was the slow part), and each such target
   * is counted in publish_failures_total — `count` is false for a copy waiting on another's publish,
   * which counts for both. A duplicate is counted in updates_duplicate_total.
   */
  private guard(
    update: InboundUpdate,
    delivery: Delivery,
    operation: Promise<PublishResult>,
    count = true,
  ): Promise<PublishResult> {
    return new Promise((resolve, reject) => {
      const deadline = this.deadlines.add(() => {
        const slow = delivery.stage === 'publishing' ? delivery.pending() : [];
        if (count && !delivery.timedOut) {
          delivery.timedOut = true;
          for (const target of slow) this.metrics.publishFailed(target.name);
        }
        const names = slow.length > 0 ? slow.map((t) => t.name).join(', ') : 'dedup';
        reject(new PublishError(names, `no confirmation within ${this.timeoutMs} ms`));
      });
      operation.then(
        (result) => {
          this.deadlines.settle(deadline);
          if (result === 'duplicate') this.metrics.updateDuplicate(update.bot, update.type);
          resolve(result);
        },
        (error: unknown) => {
          this.deadlines.settle(deadline);
          reject(error instanceof PublishError ? error : new PublishError('publish', errorMessage(error)));
        },
      );
    });
  }
}

/**
 * One update's way to its targets: which have answered, so that a timeout can name the others.
 * Up to 31 targets are tracked in a bit mask (no allocation beyond this object); past that, the
 * rest count as answered once all the tracked ones have.
 */
class Delivery {
  /** What the publish is waiting on: the dedup store before and after, the targets between. */
  stage: 'checking' | 'publishing' | 'marking' = 'checking';
  timedOut = false;
  private answeredMask = 0;

  constructor(readonly targets: readonly UpdatePublisher[]) {}

  answered(position: number): void {
    if (position < 31) this.answeredMask |= 1 << position;
  }

  pending(): UpdatePublisher[] {
    return this.targets.filter((_, i) => i >= 31 || (this.answeredMask & (1 << i)) === 0);
  }
}

function targetFailed(target: UpdatePublisher, error: unknown): never {
  throw error instanceof PublishError ? error : new PublishError(target.name, errorMessage(error));
}

function dedupFailed(error: unknown): never {
  throw new PublishError('dedup', errorMessage(error));
}

function deduplicatesItself(target: UpdatePublisher): boolean {
  return target.deduplicates === true;
}
