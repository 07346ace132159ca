import { Inject, Injectable, Logger } from '@nestjs/common';
import { PerBotKind } from '../common/per-bot-kind.js';
import { TELEGRAM_UPDATE_KINDS } from '../common/update-kinds.js';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { DedupStore } from './dedup.store.js';
import { PublishError } from './publish.error.js';
import { namesKind, routesTo } from './routing.js';
import { DEDUP_STORE } from './publisher.constants.js';
import {
  UPDATE_PUBLISHERS,
  type InboundUpdate,
  type PublishResult,
  type UpdatePublisher,
} from './publisher.interface.js';

/**
 * The one publishing interface the webhook talks to: routes an update to its targets, waits
 * until every one confirmed (bounded by PUBLISH_TIMEOUT_MS) and deduplicates on (bot, update_id).
 */
interface InFlight {
  readonly promise: Promise<PublishResult>;
  readonly startedAt: number;
}

/** After this long, a publish that has not settled no longer holds back its update's redeliveries. */
const STALE_IN_FLIGHT_MS = 60_000;

@Injectable()
export class PublishService {
  private readonly logger = new Logger(PublishService.name);
  private readonly timeoutMs: number;
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
    this.dedupEnabled = config.settings.DEDUP_TTL_SECONDS > 0;
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
    const targets = this.targetsFor(update);
    // Without dedup, or when every target deduplicates atomically itself (the Redis queue's claim
    // and enqueue), there is nothing to coordinate here: copies are settled by the target.
    if (!this.dedupEnabled || targets.every(deduplicatesItself)) {
      return this.guard('publish', this.deliver(targets, update));
    }
    const key = `${update.bot.idText}:${update.updateId}`;
    const running = this.inFlight.get(key);
    // A copy (Telegram's redelivery, or a concurrent duplicate) waits for the publish already
    // under way — even one whose first request timed out — instead of publishing again. One
    // stuck for longer than STALE_IN_FLIGHT_MS is given up on and published anew.
    if (running && Date.now() - running.startedAt < STALE_IN_FLIGHT_MS) {
      return this.guard(
        'publish',
        running.promise.then(() => 'duplicate' as const),
      );
    }
    const promise = this.publishOnce(key, targets, update);
    const entry = { promise, startedAt: Date.now() };
    this.inFlight.set(key, entry);
    void promise.then(
      () => this.forget(key, entry),
      () => this.forget(key, entry),
    );
    return this.guard('publish', promise);
  }

  private forget(key: string, entry: InFlight): void {
    if (this.inFlight.get(key) === entry) this.inFlight.delete(key);
  }

  private async publishOnce(
    key: string,
    targets: readonly UpdatePublisher[],
    update: InboundUpdate,
  ): Promise<PublishResult> {
    // Reached only when some target does not deduplicate itself (see publish()): the update is
    // marked seen only after every target confirmed, so a failed publish is never taken for a duplicate.
    if (await this.dedup.has(key).catch(dedupFailed)) return 'duplicate';
    const result = await this.deliver(targets, update);
    try {
      await this.dedup.add(key);
    } catch (error) {
      // Every target has the update: answer 200 anyway. A redelivery may be published again.
      this.logger.warn(`Could not mark update ${key} as seen: ${(error as Error).message}`);
    }
    return result;
  }

  /** Publishes to every target; rejects with a PublishError naming the first target that failed. */
  private deliver(targets: readonly UpdatePublisher[], update: InboundUpdate): Promise<PublishResult> {
    // One target (the usual case) takes no extra promise.
    if (targets.length === 1) return this.deliverTo(targets[0] as UpdatePublisher, update);
    return Promise.all(targets.map((t) => this.deliverTo(t, update))).then((results) =>
      results.length > 0 && results.every((r) => r === 'duplicate') ? 'duplicate' : 'published',
    );
  }

  private deliverTo(target: UpdatePublisher, update: InboundUpdate): Promise<PublishResult> {
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
        if (result === 'published') {
          const seconds = (performance.now() - started) / 1000;
          this.metrics.updatePublished(update.bot, update.type, target.name, seconds);
        }
        return result;
      },
      (error: unknown) => {
        this.metrics.publishFailed(target.name);
        return targetFailed(target, error);
      },
    );
  }

  /** Bounds one operation by PUBLISH_TIMEOUT_MS and turns any failure into a PublishError naming the target. */
  private guard<T>(target: string, operation: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new PublishError(target, `no confirmation within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      operation.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(
            error instanceof PublishError
              ? error
              : new PublishError(target, String((error as Error).message)),
          );
        },
      );
    });
  }
}

function targetFailed(target: UpdatePublisher, error: unknown): never {
  throw error instanceof PublishError
    ? error
    : new PublishError(target.name, String((error as Error)?.message ?? error));
}

function dedupFailed(error: unknown): never {
  throw new PublishError('dedup', String((error as Error)?.message ?? error));
}

function deduplicatesItself(target: UpdatePublisher): boolean {
  return target.deduplicates === true;
}
