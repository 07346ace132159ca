import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Bot } from '../bots/bot.js';
import { BotRegistry } from '../bots/bot-registry.service.js';
import { StartupError } from '../bots/startup.error.js';
import { BotCipherError } from '../bots/store/bot-cipher.js';
import { BotStore, type StoreChange } from '../bots/store/bot-store.service.js';
import type { StoredBot } from '../bots/store/stored-bot.js';
import { errorMessage } from '../common/error-message.js';
import { plainRoutes } from '../config/bots.js';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { BotChangeError, RuntimeBots, sameConfig, type BotSetChange } from './runtime-bots.service.js';

/**
 * How often the store's version is compared with the one applied: the feed announces every change
 * at once, this only catches one whose message was lost without the connection dropping.
 */
const CHECK_MS = 5000;

/**
 * Keeps this replica's routing table equal to the shared store (BOTS_STORE=redis). At start: the
 * bots of BOTS_FILE / TELEGRAM_TOKEN (identified already) are seeded into the store — the file
 * wins for the bots it lists, bots only in the store stay — and the whole store is read in one
 * round trip. Then it follows the feed: the change with the next version is read and applied
 * alone; a gap in versions, or a feed connection cut and made again, reads the whole store and
 * applies the difference. Only the routing table changes here: the replica that wrote a change
 * registers or deletes the webhook.
 */
@Injectable()
export class BotStoreFollower implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(BotStoreFollower.name);
  private timer?: NodeJS.Timeout;
  private followed = false;

  constructor(
    @Inject(RECEIVER_CONFIG) private readonly config: ReceiverConfig,
    private readonly store: BotStore,
    private readonly registry: BotRegistry,
    private readonly runtime: RuntimeBots,
  ) {}

  get enabled(): boolean {
    return this.store.enabled;
  }

  async onModuleInit(): Promise<void> {
    if (!this.store.enabled) return;
    try {
      await this.runtime.serialised(async () => {
        await this.seed();
        await this.resync();
      });
    } catch (error) {
      if (error instanceof BotCipherError) throw new StartupError(error.message);
      throw new StartupError(`cannot read the bot store (BOTS_STORE=redis): ${errorMessage(error)}`);
    }
    this.store.whenStale(() => void this.serialised(() => this.catchUp()));
    await this.store.follow(
      (change) => void this.serialised(() => this.catchUp(change)),
      () => void this.serialised(() => this.reconnected()),
    );
    this.timer = setInterval(() => void this.store.isCurrent().catch(() => undefined), CHECK_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /**
   * Brings the routing table to `change` (or to the store's latest): the next version alone when
   * it is the next, the whole store otherwise. Run inside RuntimeBots.serialised.
   */
  async catchUp(change?: StoreChange): Promise<void> {
    if (change === undefined) {
      if ((await this.store.version()) !== this.store.applied) await this.resync();
      return;
    }
    if (change.version <= this.store.applied) return;
    if (change.version === this.store.applied + 1 && change.id !== 0) {
      const { version, bot } = await this.store.read(change.id);
      if (version === change.version) {
        await this.apply([change.id], bot ? [bot] : [], `store-${version}`);
        this.store.applied = version;
        return;
      }
    }
    this.logger.log(
      `Bot store at version ${change.version}, this replica at ${this.store.applied}: reading the whole store`,
    );
    await this.resync();
  }

  /** The first connection of the feed checks the version; every later one reads the whole store. */
  private async reconnected(): Promise<void> {
    if (!this.followed) {
      this.followed = true;
      await this.catchUp();
      return;
    }
    this.logger.log('Bot store feed connected again: reading the whole store');
    await this.resync();
  }

  /** Reads every stored bot and applies the difference with the bots routed now, in one change. */
  private async resync(): Promise<void> {
    const { version, bots } = await this.store.snapshot();
    const ids = new Set([...this.registry.all().map((bot) => bot.id), ...bots.map((bot) => bot.id)]);
    await this.apply([...ids], bots, `store-${version}`);
    this.store.applied = version;
  }

  /** Applies the stored state of these bots (a bot not in `stored` is not stored). */
  private async apply(ids: readonly number[], stored: readonly StoredBot[], name: string): Promise<void> {
    const byId = new Map(stored.map((bot) => [bot.id, bot]));
    const added: Bot[] = [];
    const removed: Bot[] = [];
    const changed: Array<{ before: Bot; after: Bot }> = [];
    for (const id of ids) {
      const before = this.registry.findById(id);
      const after = byId.get(id);
      if (!after) {
        if (before) removed.push(before);
      } else if (!before) {
        added.push(this.registry.create(after.config, after.id, after.username));
      } else if (!sameStored(before, after)) {
        changed.push({ before, after: this.registry.create(after.config, after.id, after.username) });
      }
    }
    if (added.length + removed.length + changed.length === 0) return;
    const change: BotSetChange = { added, removed, changed, name, webhooks: false };
    try {
      await this.runtime.apply(change);
    } catch (error) {
      if (!(error instanceof BotChangeError)) throw error;
      this.logger.error(
        `Bot store change ${name} not applied:\n${error.problems.map((p) => `  - ${p}`).join('\n')}`,
      );
    }
  }

  /**
   * BOTS_FILE's and TELEGRAM_TOKEN's bots, identified at start, written to the store unless it
   * holds them as they are: the file wins for the bots it lists.
   */
  private async seed(): Promise<void> {
    const configured = this.registry.all();
    if (configured.length === 0) return;
    const { bots } = await this.store.snapshot();
    const stored = new Map(bots.map((bot) => [bot.id, bot]));
    const seeded = configured
      .filter((bot) => {
        const had = stored.get(bot.id);
        return !had || !sameStored(bot, had);
      })
      .map((bot) => storedFrom(bot));
    await this.store.putMany(seeded);
    if (seeded.length > 0) {
      this.logger.log(
        `${seeded.length} bot(s) of ${this.config.settings.BOTS_FILE === undefined ? 'TELEGRAM_TOKEN' : 'BOTS_FILE'} written to the bot store`,
      );
    }
  }

  private serialised(work: () => Promise<void>): Promise<void> {
    return this.runtime.serialised(work).catch((error: unknown) => {
      this.logger.error(`Following the bot store failed: ${errorMessage(error)}; retrying at the next check`);
      // Checked again by the timer: not current until a resync succeeds.
      this.store.applied = -1;
    });
  }
}

/** Whether a routed bot is the stored one, as it is stored (token and where it came from included). */
function sameStored(bot: Bot, stored: StoredBot): boolean {
  return (
    bot.token === stored.config.token &&
    bot.source === stored.config.source &&
    bot.username === stored.username &&
    sameConfig(bot, stored.config)
  );
}

/** A configured bot (BOTS_FILE, TELEGRAM_TOKEN) as the store keeps it. */
export function storedFrom(bot: Bot, entry?: Readonly<Record<string, unknown>>): StoredBot {
  return {
    id: bot.id,
    username: bot.username,
    config: bot,
    secretGiven: true,
    entry: entry ?? {
      endpoint: bot.endpoint === bot.token ? undefined : bot.endpoint,
      allowed_updates: bot.allowedUpdates,
      redis_queue: bot.redisQueue,
      mqtt_topic: bot.mqttTopic,
      kafka_topic: bot.kafkaTopic,
      routes: plainRoutes(bot.routes),
    },
  };
}
