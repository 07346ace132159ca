import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { REDIS_CONNECTION } from './publisher.constants.js';
import type {
  InboundUpdate,
  PublisherHealth,
  PublishResult,
  UpdatePublisher,
} from './publisher.interface.js';

/**
 * Claim and enqueue in one atomic step: the dedup key is set only together with the push, so a
 * failed push never marks an update seen, and a redelivery of a pushed one is never pushed twice.
 * KEYS: queue, dedup key. ARGV: ttl seconds, body (and, for the stream, bot id and update_id).
 */
const CLAIM_AND_RPUSH = `
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('RPUSH', KEYS[1], ARGV[2])
  return 1
end
return 0`;

const CLAIM_AND_XADD = `
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('XADD', KEYS[1], '*', 'bot', ARGV[3], 'update_id', ARGV[4], 'update', ARGV[2])
  return 1
end
return 0`;

interface QueueCommands {
  claimAndRpush(queue: string, dedupKey: string, ttl: number, body: Buffer): Promise<number>;
  claimAndXadd(
    queue: string,
    dedupKey: string,
    ttl: number,
    body: Buffer,
    bot: string,
    id: number,
  ): Promise<number>;
}

/**
 * The durable Redis queue: RPUSH onto a list (FIFO for BLPOP consumers) or XADD onto a stream
 * (fields `bot`, `update_id`, `update`), REDIS_QUEUE_NAME or the bot's `redis_queue`.
 */
@Injectable()
export class RedisQueuePublisher implements UpdatePublisher {
  readonly name = 'redis';
  readonly deduplicates: boolean;
  readonly types?: ReadonlySet<string>;
  private readonly mode: 'list' | 'stream';
  private readonly defaultQueue: string;
  private readonly ttl: number;
  private readonly commands: QueueCommands;

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
    redis.defineCommand('claimAndRpush', { numberOfKeys: 2, lua: CLAIM_AND_RPUSH });
    redis.defineCommand('claimAndXadd', { numberOfKeys: 2, lua: CLAIM_AND_XADD });
    this.commands = redis as unknown as QueueCommands;
  }

  /** The key holding the claim of one update in one queue. */
  static dedupKey(queue: string, botId: string, updateId: number): string {
    return `${queue}:dedup:${botId}:${updateId}`;
  }

  async publish(update: InboundUpdate): Promise<PublishResult> {
    const queue = update.bot.redisQueue ?? this.defaultQueue;
    const bot = update.bot.idText;
    if (!this.deduplicates) {
      if (this.mode === 'list') await this.redis.rpush(queue, update.payload);
      else
        await this.redis.xadd(queue, '*', 'bot', bot, 'update_id', update.updateId, 'update', update.payload);
      return 'published';
    }
    const key = RedisQueuePublisher.dedupKey(queue, bot, update.updateId);
    const pushed =
      this.mode === 'list'
        ? await this.commands.claimAndRpush(queue, key, this.ttl, update.payload)
        : await this.commands.claimAndXadd(queue, key, this.ttl, update.payload, bot, update.updateId);
    return pushed === 1 ? 'published' : 'duplicate';
  }

  health(): PublisherHealth {
    return this.redis.status === 'ready'
      ? { up: true }
      : { up: false, reason: `redis connection is ${this.redis.status}` };
  }
}
