import { Inject, Injectable, Logger, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { errorMessage } from '../../common/error-message.js';
import { RECEIVER_CONFIG } from '../../config/config.constants.js';
import type { ReceiverConfig } from '../../config/load-settings.js';
import { encryptionKey } from '../../config/store-settings.js';
import { REDIS_CONNECTION, type RedisConnection } from '../../redis/redis.constants.js';
import { BotCipher } from './bot-cipher.js';
import { decodeBot, encodeBot, type StoredBot } from './stored-bot.js';

/**
 * One change, atomically: the record written or deleted, the version bumped, the change announced
 * on the feed with its version — so a replica that sees version N+2 after N knows it missed one.
 * Returns the new version, or 0 when the change does not apply (create: the bot is stored already;
 * replace, delete: it is not).
 */
const WRITE = `
local exists = redis.call('HEXISTS', KEYS[1], ARGV[2]) == 1
if ARGV[1] == 'create' and exists then return 0 end
if (ARGV[1] == 'replace' or ARGV[1] == 'delete') and not exists then return 0 end
if ARGV[1] == 'delete' then
  redis.call('HDEL', KEYS[1], ARGV[2])
else
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
end
local version = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[4], version .. ' ' .. ARGV[2])
return version`;

/** Several bots stored in one step (BOTS_FILE's at start): one version, announced for bot 0 — "several". */
const WRITE_MANY = `
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
local version = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[1], version .. ' 0')
return version`;

/** Bots per WRITE_MANY call: Lua's unpack takes a few thousand arguments at most. */
const WRITE_MANY_BOTS = 1000;

type WriteMode = 'create' | 'replace' | 'delete';

/** Everything stored, as of one version: read in one MULTI, so the two agree. */
export interface StoreSnapshot {
  readonly version: number;
  readonly bots: readonly StoredBot[];
}

/** A change announced on the feed: the version it made, and the bot it touched (0: several). */
export interface StoreChange {
  readonly version: number;
  readonly id: number;
}

/**
 * The shared bot store (BOTS_STORE=redis): each bot one field of a hash, its token and secret
 * encrypted (BOTS_ENCRYPTION_KEY), a version bumped with each change, and a pub/sub feed that
 * announces it. Every key shares one hash tag, so the scripts and MULTIs run on a Cluster too.
 * Start-up reads the whole store in one round trip, however many bots it holds.
 */
@Injectable()
export class BotStore implements OnApplicationShutdown {
  private readonly logger = new Logger(BotStore.name);
  readonly enabled: boolean;
  private readonly cipher?: BotCipher;
  readonly recordsKey: string;
  readonly versionKey: string;
  readonly channel: string;
  /** The store version this replica's routing table shows; moved on by whoever applies a change. */
  applied = 0;
  private feed?: RedisConnection;
  /** Called when a check finds this replica behind the store: the follower resyncs. */
  private onStale?: () => void;

  constructor(
    @Inject(RECEIVER_CONFIG) { settings }: ReceiverConfig,
    @Optional() @Inject(REDIS_CONNECTION) private readonly redis?: RedisConnection,
  ) {
    this.enabled = settings.BOTS_STORE === 'redis' && redis !== undefined;
    const key =
      settings.BOTS_ENCRYPTION_KEY === undefined ? undefined : encryptionKey(settings.BOTS_ENCRYPTION_KEY);
    if (key) this.cipher = new BotCipher(key);
    // One hash tag for every key of the store, braces of the queue name taken out so it stays one tag.
    const prefix = `{${settings.REDIS_QUEUE_NAME.replace(/[{}]/g, '_')}:bots}`;
    this.recordsKey = `${prefix}:records`;
    this.versionKey = `${prefix}:version`;
    this.channel = `${prefix}:changes`;
  }

  /** Every stored bot and the version they are at; throws BotCipherError for a wrong key. */
  async snapshot(): Promise<StoreSnapshot> {
    const [version, records] = await this.exec<[string | null, Record<string, string>]>((m) =>
      m.get(this.versionKey).hgetall(this.recordsKey),
    );
    const cipher = this.requireCipher();
    return { version: Number(version ?? 0), bots: Object.values(records).map((r) => decodeBot(r, cipher)) };
  }

  /** One stored bot (undefined: not stored) and the version the store is at. */
  async read(id: number): Promise<{ version: number; bot?: StoredBot }> {
    const [version, record] = await this.exec<[string | null, string | null]>((m) =>
      m.get(this.versionKey).hget(this.recordsKey, String(id)),
    );
    return {
      version: Number(version ?? 0),
      bot: record === null ? undefined : decodeBot(record, this.requireCipher()),
    };
  }

  async version(): Promise<number> {
    return Number((await this.connection().get(this.versionKey)) ?? 0);
  }

  /**
   * Whether this replica's routing table is the store's latest. When it is not, the follower is
   * told to resync; whoever asked (the reconciler) leaves webhooks alone until it has.
   */
  async isCurrent(): Promise<boolean> {
    if (!this.enabled) return true;
    const current = (await this.version()) === this.applied;
    if (!current) this.onStale?.();
    return current;
  }

  whenStale(callback: () => void): void {
    this.onStale = callback;
  }

  /** Stores a new bot; undefined when a bot with its id is stored already. */
  create(bot: StoredBot): Promise<number | undefined> {
    return this.write('create', bot.id, bot);
  }

  /**
   * Stores these bots, new or not, a thousand per script call and version (BOTS_FILE's at start):
   * thousands of bots cost a few round trips, and the feed announces each call as a change of
   * several bots (id 0), which followers apply by reading the whole store.
   */
  async putMany(bots: readonly StoredBot[]): Promise<void> {
    const cipher = this.requireCipher();
    for (let at = 0; at < bots.length; at += WRITE_MANY_BOTS) {
      const fields = bots
        .slice(at, at + WRITE_MANY_BOTS)
        .flatMap((bot) => [String(bot.id), encodeBot(bot, cipher)]);
      await this.connection().eval(WRITE_MANY, 2, this.recordsKey, this.versionKey, this.channel, ...fields);
    }
  }

  /** Replaces a stored bot; undefined when it is not stored. */
  replace(bot: StoredBot): Promise<number | undefined> {
    return this.write('replace', bot.id, bot);
  }

  /** Deletes a stored bot; undefined when it was not stored. */
  delete(id: number): Promise<number | undefined> {
    return this.write('delete', id);
  }

  /**
   * Follows the feed on a connection of its own (a subscribed connection takes no other command),
   * named `telegram-receiver:bots-feed:<pid>` in CLIENT LIST. `onReady` runs each time it
   * (re)connects — the first time and after every cut, when messages may have been missed.
   */
  async follow(onChange: (change: StoreChange) => void, onReady: () => void): Promise<void> {
    const redis = this.connection();
    const name = `telegram-receiver:bots-feed:${process.pid}`;
    // Subscribing waits for the connection: the offline queue holds SUBSCRIBE until it is up.
    const feed =
      redis instanceof Cluster
        ? redis.duplicate([], {
            enableOfflineQueue: true,
            redisOptions: { ...redis.options.redisOptions, connectionName: name },
          })
        : redis.duplicate({ enableOfflineQueue: true, connectionName: name, lazyConnect: true });
    this.feed = feed;
    feed.on('error', (error: Error) => this.logger.debug(`Bot store feed: ${errorMessage(error)}`));
    // Subscribed again before onReady reads the store, so no change falls between the two.
    feed.on('ready', () => void feed.subscribe(this.channel).then(onReady, onReady));
    feed.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const [version, id] = message.split(' ').map(Number);
      if (Number.isSafeInteger(version) && Number.isSafeInteger(id)) {
        onChange({ version: version as number, id: id as number });
      }
    });
    await feed.connect().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.feed?.quit().catch(() => this.feed?.disconnect());
  }

  private async write(mode: WriteMode, id: number, bot?: StoredBot): Promise<number | undefined> {
    const record = bot ? encodeBot(bot, this.requireCipher()) : '';
    const version = (await this.connection().eval(
      WRITE,
      2,
      this.recordsKey,
      this.versionKey,
      mode,
      String(id),
      record,
      this.channel,
    )) as number;
    return version === 0 ? undefined : version;
  }

  private async exec<T extends unknown[]>(
    build: (multi: ReturnType<RedisConnection['multi']>) => ReturnType<RedisConnection['multi']>,
  ): Promise<T> {
    const results = await build(this.connection().multi()).exec();
    if (!results) throw new Error('the bot store read was aborted');
    return results.map(([error, value]) => {
      if (error) throw error;
      return value;
    }) as T;
  }

  private connection(): RedisConnection {
    if (!this.redis || !this.enabled) throw new Error('BOTS_STORE=redis is not in use');
    return this.redis;
  }

  private requireCipher(): BotCipher {
    if (!this.cipher) throw new Error('BOTS_ENCRYPTION_KEY is not set');
    return this.cipher;
  }
}
