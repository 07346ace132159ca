import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import type { Bot } from '../bots/bot.js';
import { BotRegistry } from '../bots/bot-registry.service.js';
import { StartupError } from '../bots/startup.error.js';
import { errorMessage } from '../common/error-message.js';
import { KIND_PATTERN } from '../common/update-kinds.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { UpdateIntake } from '../publisher/update-intake.service.js';
import { TelegramApiError } from '../telegram/telegram-api.error.js';
import { TelegramClient, type RawUpdate } from '../telegram/telegram.client.js';

/** Seconds Telegram holds a getUpdates request open while there is nothing to deliver. */
export const LONG_POLL_SECONDS = 30;
/** The Bot API's maximum batch. */
const BATCH_LIMIT = 100;
const MAX_BACKOFF_MS = 30_000;

/** One bot's polling position. */
interface PollState {
  readonly bot: Bot;
  /** update_id after the last batch every target confirmed; Telegram forgets updates below it once it is sent. */
  offset?: number;
  /** The offset Telegram was last told about. */
  sentOffset?: number;
}

/**
 * TELEGRAM_MODE=polling: fetches updates with getUpdates long polling and publishes them through
 * the same PublishService as the webhook (routing, dedup, metrics). The offset — Telegram's
 * acknowledgement — moves past a batch only once every update of it was confirmed by every
 * target, so a crash anywhere between fetch and publish loses nothing: the batch is fetched again.
 */
@Injectable()
export class UpdatePoller implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(UpdatePoller.name);
  private readonly stop = new AbortController();
  private readonly states: PollState[] = [];
  private readonly loops: Promise<void>[] = [];

  constructor(
    @Inject(RECEIVER_CONFIG) private readonly config: ReceiverConfig,
    private readonly telegram: TelegramClient,
    private readonly registry: BotRegistry,
    private readonly intake: UpdateIntake,
    private readonly metrics: MetricsService,
  ) {}

  /** Runs after every bot was identified (getMe) by the BotIdentifier. */
  async onApplicationBootstrap(): Promise<void> {
    const bots = this.registry.all();
    // A first, non-waiting fetch per bot before anything runs: a webhook that is still set stops
    // the start here, with the way out in the message.
    const first = await Promise.all(bots.map((bot) => this.start(bot)));
    first.forEach(([state, batch]) => {
      this.states.push(state);
      this.loops.push(this.run(state, batch));
    });
    this.logger.log(`Polling ${bots.length} bot(s) for updates (TELEGRAM_MODE=polling)`);
  }

  /** Stops fetching, lets the publish under way finish, and tells Telegram what was confirmed. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stop.abort();
    await Promise.all(this.loops);
    await Promise.all(
      this.states
        .filter((s) => s.offset !== undefined && s.offset !== s.sentOffset)
        .map(async (s) => {
          try {
            // Updates below `offset` are confirmed by this call; the one update it returns is not.
            await this.telegram.getUpdates(s.bot.token, { offset: s.offset, limit: 1, timeout: 0 });
          } catch (error) {
            this.logger.warn(
              `Could not confirm the last batch of ${s.bot.label} (${errorMessage(error)}); it will be fetched again and deduplicated`,
            );
          }
        }),
    );
  }

  private async start(bot: Bot): Promise<[PollState, RawUpdate[]]> {
    if (this.config.settings.POLLING_DELETE_WEBHOOK) {
      // Pending updates are kept: they are what the first getUpdates returns.
      await this.telegram.deleteWebhook(bot.token, false);
      this.logger.log(`Webhook of ${bot.label} deleted for polling (POLLING_DELETE_WEBHOOK=true)`);
    }
    const state: PollState = { bot };
    try {
      return [state, await this.fetch(state, 0)];
    } catch (error) {
      if (isConflict(error)) throw new StartupError(conflictMessage(bot, error));
      this.logger.warn(`getUpdates failed for ${bot.label}: ${errorMessage(error)}; retrying`);
      return [state, []];
    }
  }

  private async run(state: PollState, firstBatch: RawUpdate[]): Promise<void> {
    let batch = firstBatch;
    let failures = 0;
    while (!this.stop.signal.aborted) {
      try {
        if (batch.length === 0) batch = await this.fetch(state, LONG_POLL_SECONDS);
        await this.publishBatch(state.bot, batch);
        if (this.stop.signal.aborted) return; // stopped mid-batch: nothing acknowledged
        state.offset = (batch[batch.length - 1] as RawUpdate).update_id + 1;
        batch = [];
        failures = 0;
      } catch (error) {
        if (this.stop.signal.aborted) return;
        failures++;
        const wait = backoff(error, failures);
        // A failed publish keeps the batch: it is published again, and dedup skips what already went through.
        this.logger.error(
          `${isConflict(error) ? conflictMessage(state.bot, error) : `Polling ${state.bot.label}: ${errorMessage(error)}`}; ` +
            `${batch.length > 0 ? `batch of ${batch.length} kept, ` : ''}retrying in ${Math.ceil(wait / 100) / 10} s`,
        );
        await sleep(wait, undefined, { signal: this.stop.signal }).catch(() => undefined);
      }
    }
  }

  private async fetch(state: PollState, timeout: number): Promise<RawUpdate[]> {
    const { bot } = state;
    const updates = await this.telegram.getUpdates(
      bot.token,
      {
        offset: state.offset,
        limit: BATCH_LIMIT,
        timeout,
        ...(bot.allowedUpdates && { allowed_updates: bot.allowedUpdates }),
      },
      this.stop.signal,
    );
    state.sentOffset = state.offset;
    return updates;
  }

  /** In update_id order, one at a time, as Telegram delivers one chat's updates to a webhook. */
  private async publishBatch(bot: Bot, batch: readonly RawUpdate[]): Promise<void> {
    for (const update of batch) {
      if (this.stop.signal.aborted) return;
      const type = updateKind(update);
      if (!KIND_PATTERN.test(type)) {
        // As the webhook answers 400 to it: a kind that is not a name would change a topic's meaning.
        this.metrics.requestRejected(bot.idText, 'bad_request');
        this.logger.warn(
          `Update ${update.update_id} of ${bot.label} skipped: its kind is not a name of a-z, 0-9 and _`,
        );
        continue;
      }
      // getUpdates returns the updates inside one JSON array: each is published as its own document.
      await this.intake.take(
        bot.identity,
        update.update_id,
        type,
        Buffer.from(JSON.stringify(update)),
        Date.now(),
      );
    }
  }
}

/** The update's kind: its one key besides `update_id`; unknown kinds pass through untouched. */
function updateKind(update: RawUpdate): string {
  for (const key in update) if (key !== 'update_id') return key;
  return 'unknown';
}

function isConflict(error: unknown): error is TelegramApiError {
  return error instanceof TelegramApiError && error.errorCode === 409;
}

function conflictMessage(bot: Bot, error: TelegramApiError): string {
  if (/webhook/i.test(error.description)) {
    return (
      `getUpdates for ${bot.label} answered 409 Conflict: the bot has a webhook set, and Telegram ` +
      'does not deliver updates to getUpdates while one is. Set POLLING_DELETE_WEBHOOK=true to ' +
      'delete it at start (pending updates are kept), or delete it yourself with ' +
      '"npx telegram-receiver webhook delete"'
    );
  }
  return (
    `getUpdates for ${bot.label} answered 409 Conflict (${error.description}): another process ` +
    'is polling this bot; only one poller per bot can run'
  );
}

function backoff(error: unknown, failures: number): number {
  if (error instanceof TelegramApiError && error.retryAfter !== undefined) return error.retryAfter * 1000;
  return Math.min(MAX_BACKOFF_MS, 500 * 2 ** (failures - 1));
}
