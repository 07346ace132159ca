import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { REDIS_CONNECTION } from '../redis/redis.constants.js';
import { STORE_UPDATES_COMMAND } from '../redis/redis.module.js';
import type {
  InboundUpdate,
  PublisherHealth,
  PublishResult,
  UpdatePublisher,
} from './publisher.interface.js';

/**
 * Stores a batch of updates, each in one atomic step: claim its dedup key, then push it. A push
 * that fails releases its claim, so a failed update is never taken for a duplicate, and one bad
 * queue key (of the wrong type, say) fails only its own updates. Pushed ones are never pushed
 * twice: their claims stand.
 * KEYS: queue and claim key of each update. ARGV: ttl seconds (0: no dedup), 'list' | 'stream',
 * then per update its body (list) or body, bot id and update_id (stream).
 * Returns per update 1 (stored), 0 (a duplicate) or the error text of its push.
 */
const STORE_UPDATES = `
local ttl, stream = tonumber(ARGV[1]), ARGV[2] == 'stream'
local stride = stream and 3 or 1
local results = {}
for i = 1, #KEYS / 2 do
  local queue, claim, arg = KEYS[2 * i - 1], KEYS[2 * i], 3 + (i - 1) * stride
  if ttl > 0 and not redis.call('SET', claim, '1', 'NX', 'EX', ttl) then
    results[i] = 0
  else
    local pushed
    if stream then
      pushed = redis.pcall('XADD', queue, '*', 'bot', ARGV[arg + 1], 'update_id', ARGV[arg + 2], 'update', ARGV[arg])
    else
      pushed = redis.pcall('RPUSH', queue, ARGV[arg])
    end
    if type(pushed) == 'table' and pushed.err then
      if ttl > 0 then redis.call('DEL', claim) end
      results[i] = pushed.err
    else
      results[i] = 1
    end
  end
end
return results`;

/** Updates per script call at most; a fuller batch is sent at once and a new one begun. */
const MAX_BATCH = 512;

interface Pending {
  readonly update: InboundUpdate;
  readonly queue: string;
  readonly resolve: (result: PublishResult) => void;
  readonly reject: (error: Error) => void;
}

type StoreUpdates = (numberOfKeys: number, ...keysAndArgs: (string | number | Buffer)[]) => Promise<unknown>;

/**
 * The durable Redis queue: RPUSH onto a list (FIFO for BLPOP consumers) or XADD onto a stream
 * (fields `bot`, `update_id`, `update`), REDIS_QUEUE_NAME or the bot's `redis_queue`.
 *
 * Updates arriving in the same turn of the event loop are stored by one script call — one
 * command for ioredis to encode and Redis to run instead of one per update — each still
 * claimed and pushed atomically, in arrival order.
 */
@Injectable()
export class RedisQueuePublisher implements UpdatePublisher {
  readonly name = 'redis';
  readonly deduplicates: boolean;
  readonly types?: ReadonlySet<string>;
  private readonly mode: 'list' | 'stream';
  private readonly defaultQueue: string;
  private readonly ttl: number;
  private readonly storeUpdates: StoreUpdates;
  private batch: Pending[] = [];

  constructor(
    @Inject(REDIS_CONNECTION) private readonly redis: Redis,
    @Inject(RECEIVER_CONFIG) config: ReceiverConfig,
  ) {
    const { settings } = config;
    this.mode = settings.REDIS_QUEUE_MODE;
    this.defaultQueue = settings.REDIS_QUEUE_NAME;
    this.ttl = settings.DEDUP_TTL_SECONDS;
    this.deduplicates = this.ttl > 0;
    if (settings.REDIS_TYPES) this.types = new Set(settings.REDIS_TYPES);
    // defineCommand sends EVALSHA, falling back to EVAL once per connection.
    redis.defineCommand(STORE_UPDATES_COMMAND, { lua: STORE_UPDATES });
    const commands = redis as unknown as Record<typeof STORE_UPDATES_COMMAND, StoreUpdates>;
    this.storeUpdates = commands[STORE_UPDATES_COMMAND].bind(redis);
  }

  /** The key holding the claim of one update in one queue. */
  static dedupKey(queue: string, botId: string, updateId: number): string {
    return `${queue}:dedup:${botId}:${updateId}`;
  }

  publish(update: InboundUpdate): Promise<PublishResult> {
    return new Promise((resolve, reject) => {
      if (this.batch.length === 0) setImmediate(this.flush);
      this.batch.push({ update, queue: update.bot.redisQueue ?? this.defaultQueue, resolve, reject });
      if (this.batch.length >= MAX_BATCH) this.flush();
    });
  }

  private readonly flush = (): void => {
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    const stream = this.mode === 'stream';
    const keys: string[] = [];
    const args: (string | number | Buffer)[] = [this.ttl, this.mode];
    for (const { update, queue } of batch) {
      keys.push(queue, RedisQueuePublisher.dedupKey(queue, update.bot.idText, update.updateId));
      if (stream) args.push(update.payload, update.bot.idText, update.updateId);
      else args.push(update.payload);
    }
    this.storeUpdates(keys.length, ...keys, ...args).then(
      (results) => settle(batch, results),
      (error: Error) => {
        for (const pending of batch) pending.reject(error);
      },
    );
  };

  health(): PublisherHealth {
    return this.redis.status === 'ready'
      ? { up: true }
      : { up: false, reason: `redis connection is ${this.redis.status}` };
  }
}

function settle(batch: readonly Pending[], results: unknown): void {
  const stored = results as readonly (number | string)[];
  for (let i = 0; i < batch.length; i++) {
    const pending = batch[i] as Pending;
    const result = stored[i];
    if (result === 1) pending.resolve('published');
    else if (result === 0) pending.resolve('duplicate');
    else pending.reject(new Error(`could not push to ${pending.queue}: ${String(result)}`));
  }
}
