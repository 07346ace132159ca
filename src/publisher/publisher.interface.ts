import type { BotIdentity } from '../bots/bot.js';

/** One update as received: the exact bytes Telegram sent, plus what routing and dedup need. */
export interface InboundUpdate {
  /** Who the bot is (id, username, its own routes): never its token or secret. */
  readonly bot: BotIdentity;
  readonly updateId: number;
  /** The update's kind: its one key besides `update_id` (`message`, `callback_query`, …). */
  readonly type: string;
  /** The body exactly as Telegram sent it — never a re-serialisation. */
  readonly raw: Buffer;
  /** What targets send: `raw`, or the envelope around it when PUBLISH_FORMAT=envelope. */
  readonly payload: Buffer;
  /** Epoch milliseconds when the request arrived. */
  readonly receivedAt: number;
}

/** `duplicate`: the target already held this update, so nothing new was written. */
export type PublishResult = 'published' | 'duplicate';

export interface PublisherHealth {
  readonly up: boolean;
  /** Why it is down, for `/status`. Never a URL with credentials. */
  readonly reason?: string;
}

/**
 * A publishing target. Implement it in a Nest provider and pass the class to
 * `AppModule.forRoot({ publishers: [...] })` to add your own target beside the built-in ones:
 * it is then routed to, health-checked at `/status` and counted in metrics like them.
 *
 * `publish` must resolve only once the target durably holds the update (or knows it is
 * lossy by design) and reject otherwise; the service answers Telegram 503 on a rejection
 * or when `PUBLISH_TIMEOUT_MS` passes, so Telegram delivers the update again.
 */
export interface UpdatePublisher {
  /** Short, unique name used in `/status`, logs and metrics (`redis`, `mqtt`, …). */
  readonly name: string;
  /** Update kinds this target receives; `undefined` means every kind. */
  readonly types?: ReadonlySet<string>;
  /**
   * True when `publish` itself deduplicates atomically on (bot, update_id) — as the Redis
   * queue does with one script that claims and enqueues. Other targets are deduplicated by
   * the service, which marks an update seen only after every target confirmed it.
   */
  readonly deduplicates?: boolean;
  publish(update: InboundUpdate): Promise<PublishResult>;
  health(): PublisherHealth;
}
