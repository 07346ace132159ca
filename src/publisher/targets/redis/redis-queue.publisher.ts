import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ChainableCommander } from 'ioredis';
import { errorMessage } from '../../../common/error-message.js';
import { RECEIVER_CONFIG } from '../../../config/config.constants.js';
import type { ReceiverConfig } from '../../../config/load-settings.js';
import { slotPrefix } from '../../../config/redis-settings.js';
import { keySlot } from '../../../redis/key-slot.js';
import { RedisState } from '../../../redis/redis-state.js';
import { REDIS_CONNECTION, type RedisConnection } from '../../../redis/redis.constants.js';
import { STORE_UPDATES_COMMAND } from '../../../redis/redis.module.js';
import { dedupBit, dedupBlock } from '../../dedup.store.js';
import type {
  InboundUpdate,
  PublisherHealth,
  PublishResult,
  UpdatePublisher,
} from '../../publisher.interface.js';

/**
 * Stores a batch of updates, each in one atomic step: claim its (bot, update_id) bit, then push
 * it. A push that fails clears the bit it set — set by this very call, since a script runs alone
 * — so a failed update is never taken for a duplicate, and one bad queue key (of the wrong type,
 * say) fails only its own updates. Pushed ones are never pushed twice: their claims stand.
 *
 * Claims are bits of Redis bitmaps, one key per bot and block of 1,024 update_ids (SETBIT
 * answers the old bit: claim and test in one command). A bot's recent ids are a dense range, so a
 * day of updates costs a fraction of a byte each instead of a key each. Every block the batch
 * touched — a duplicate's too — then expires DEDUP_TTL_SECONDS after this write: a pair stays
 * remembered at least that long, a block of cleared bits goes away, and a duplicate's batch writes
 * something, so that a WAIT after it covers the copy another replica stored.
 *
 * KEYS: queue and block key of each update. ARGV: ttl seconds (0: no dedup), 'list' | 'stream',
 * then per update its body and bit (list), or body, bit, bot id and update_id (stream).
 * Returns per update 1 (stored), 0 (a duplicate) or the error text of its claim or push.
 */
const STORE_UPDATES = `
local ttl, stream = tonumber(ARGV[1]), ARGV[2] == 'stream'
local stride = stream and 4 or 2
local results, blocks = {}, {}
for i = 1, #KEYS / 2 do
  local queue, block, arg = KEYS[2 * i - 1], KEYS[2 * i], 3 + (i - 1) * stride
  local bit = ARGV[arg + 1]
  local claimed = ttl == 0 or redis.pcall('SETBIT', block, bit, 1)
  if type(claimed) == 'table' then
    results[i] = claimed.err
  elseif claimed == 1 then
    results[i] = 0
    blocks[block] = true
  else
    local pushed
    if stream then
      pushed = redis.pcall('XADD', queue, '*', 'bot', ARGV[arg + 2], 'update_id', ARGV[arg + 3], 'update', ARGV[arg])
    else
      pushed = redis.pcall('RPUSH', queue, ARGV[arg])
    end
    if type(pushed) == 'table' and pushed.err then
      if ttl > 0 then redis.call('SETBIT', block, bit, 0) end
      results[i] = pushed.err
    else
      results[i] = 1
    end
    if ttl > 0 then blocks[block] = true end
  end
end
for block in pairs(blocks) do redis.call('EXPIRE', block, ttl) end
return results`;

const STORE_UPDATES_SHA = createHash('sha1').update(STORE_UPDATES).digest('hex');

/**
 * Updates per script call at most; a fuller batch is sent at once and a new one begun. With
 * thousands of connections one turn of the event loop reads thousands of requests, and a batch
 * sent only at the end of the turn keeps each of them (alive across young collections, so
 * promoted) until then. Sent every 64, the first ones are on their way while the turn goes on —
 * libuv polls again within the turn when a poll returned a full set of events, so their answer
 * can be read before it ends. Below 64 connections nothing changes: no batch fills in one turn.
 */
const MAX_BATCH = 64;

/** A queue's names, worked out once: its dedup keys' prefix (in its hash slot) and that slot. */
interface QueueKeys {
  readonly name: string;
  readonly dedupPrefix: string;
  readonly slot: number;
}

interface Pending {
  readonly update: InboundUpdate;
  readonly queue: QueueKeys;
  /** Epoch ms it was handed over; only kept when waiting for replicas (REDIS_WAIT_REPLICAS), else 0. */
  readonly queuedAt: number;
  readonly resolve: (result: PublishResult) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Batches that wait for replicas (REDIS_WAIT_REPLICAS) on one connection — a Cluster: one slot.
 * One pipeline at a time: its scripts, then one WAIT covering all of them. WAIT holds the
 * connection until the replicas answered, so a batch sent meanwhile would only queue behind it;
 * waiting here instead, the updates of that time share the next pipeline and its WAIT.
 */
interface Lane {
  waiting: Pending[];
  busy: boolean;
}

type StoreUpdates = (numberOfKeys: number, ...keysAndArgs: (string | number | Buffer)[]) => Promise<unknown>;

/**
 * The durable Redis queue: RPUSH onto a list (FIFO for BLPOP consumers) or XADD onto a stream
 * (fields `bot`, `update_id`, `update`), REDIS_QUEUE_NAME or the bot's `redis_queue`.
 *
 * Updates arriving in the same turn of the event loop are stored by one script call per hash slot
 * (one call on a single server or a Sentinel group's master) — one command for ioredis to encode
 * and Redis to run instead of one per update — each still claimed and pushed atomically, in
 * arrival order. With REDIS_WAIT_REPLICAS, a batch is answered only once that many replicas
 * acknowledged it (WAIT), within PUBLISH_TIMEOUT_MS.
 */
@Injectable()
export class RedisQueuePublisher implements UpdatePublisher {
  readonly name = 'redis';
  readonly deduplicates: boolean;
  readonly types?: ReadonlySet<string>;
  private readonly logger = new Logger(RedisQueuePublisher.name);
  private readonly mode: 'list' | 'stream';
  private readonly defaultQueue: string;
  private readonly ttl: number;
  private readonly waitReplicas: number;
  private readonly timeoutMs: number;
  private readonly cluster: boolean;
  private readonly storeUpdates: StoreUpdates;
  private readonly queues = new Map<string, QueueKeys>();
  private readonly lanes = new Map<number, Lane>();
  private batch: Pending[] = [];
  private replicasShort = false;

  constructor(
    @Inject(REDIS_CONNECTION) private readonly redis: RedisConnection,
    private readonly state: RedisState,
    @Inject(RECEIVER_CONFIG) config: ReceiverConfig,
  ) {
    const { settings } = config;
    this.mode = settings.REDIS_QUEUE_MODE;
    this.defaultQueue = settings.REDIS_QUEUE_NAME;
    this.ttl = settings.DEDUP_TTL_SECONDS;
    this.waitReplicas = settings.REDIS_WAIT_REPLICAS;
    this.timeoutMs = settings.PUBLISH_TIMEOUT_MS;
    this.cluster = redis.isCluster;
    this.deduplicates = this.ttl > 0;
    if (settings.REDIS_TYPES) this.types = new Set(settings.REDIS_TYPES);
    // defineCommand sends EVALSHA, falling back to EVAL once per connection.
    redis.defineCommand(STORE_UPDATES_COMMAND, { lua: STORE_UPDATES });
    const commands = redis as unknown as Record<typeof STORE_UPDATES_COMMAND, StoreUpdates>;
    this.storeUpdates = commands[STORE_UPDATES_COMMAND].bind(redis);
  }

  /**
   * The key of the bitmap block holding one update's claim in one queue:
   * `{queue}:dedup:<bot id>:b<update_id div 1024>` (a queue with a hash tag of its own keeps it:
   * `{shop}:q:dedup:…`), the claim being bit `update_id mod 1024` of it.
   */
  static dedupKey(queue: string, botId: string, updateId: number): string {
    return `${slotPrefix(queue) ?? queue}:dedup:${botId}:b${dedupBlock(updateId)}`;
  }

  publish(update: InboundUpdate): Promise<PublishResult> {
    return new Promise((resolve, reject) => {
      if (this.batch.length === 0) setImmediate(this.flush);
      const queue = this.queueKeys(update.bot.redisQueue ?? this.defaultQueue);
      const queuedAt = this.waitReplicas > 0 ? Date.now() : 0;
      this.batch.push({ update, queue, queuedAt, resolve, reject });
      if (this.batch.length >= MAX_BATCH) this.flush();
    });
  }

  private queueKeys(name: string): QueueKeys {
    let keys = this.queues.get(name);
    if (keys === undefined) {
      // Queue names come from the configuration: a bounded set.
      keys = {
        name,
        dedupPrefix: `${slotPrefix(name) ?? name}:dedup:`,
        slot: this.cluster ? keySlot(name) : 0,
      };
      this.queues.set(name, keys);
    }
    return keys;
  }

  private readonly flush = (): void => {
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    // On a Cluster one script may touch one hash slot only: a call per slot of the batch.
    const groups = this.cluster ? groupBySlot(batch) : [batch];
    for (const group of groups) {
      if (this.waitReplicas > 0) this.enqueue(group);
      else this.store(group);
    }
  };

  /** The script's keys and arguments for these updates (all of one slot). */
  private command(group: readonly Pending[]): [string[], (string | number | Buffer)[]] {
    const stream = this.mode === 'stream';
    const dedup = this.ttl > 0;
    const keys: string[] = [];
    const args: (string | number | Buffer)[] = [this.ttl, this.mode];
    for (const { update, queue } of group) {
      const block = dedupBlock(update.updateId);
      keys.push(queue.name, dedup ? `${queue.dedupPrefix}${update.bot.idText}:b${block}` : queue.name);
      args.push(update.payload, dedupBit(update.updateId, block));
      if (stream) args.push(update.bot.idText, update.updateId);
    }
    return [keys, args];
  }

  private store(group: readonly Pending[]): void {
    const [keys, args] = this.command(group);
    this.storeUpdates(keys.length, ...keys, ...args).then(
      (results) => settle(group, results),
      (error: Error) => {
        for (const pending of group) pending.reject(error);
      },
    );
  }

  private enqueue(group: Pending[]): void {
    const slot = group[0]?.queue.slot ?? 0;
    let lane = this.lanes.get(slot);
    if (lane === undefined) this.lanes.set(slot, (lane = { waiting: [], busy: false }));
    for (const pending of group) lane.waiting.push(pending);
    if (!lane.busy) void this.drain(lane);
  }

  /** Sends what waits in the lane — scripts, then one WAIT — until nothing is left. */
  private async drain(lane: Lane): Promise<void> {
    lane.busy = true;
    try {
      while (lane.waiting.length > 0) {
        const now = Date.now();
        const live: Pending[] = [];
        for (const pending of lane.waiting) {
          // One whose publish has already timed out (503) is not stored late: Telegram resends it.
          if (now - pending.queuedAt < this.timeoutMs) live.push(pending);
          else
            pending.reject(
              new Error(`not stored: replicas held back earlier batches beyond ${this.timeoutMs} ms`),
            );
        }
        lane.waiting = [];
        if (live.length === 0) continue;
        const newest = live[live.length - 1] as Pending;
        await this.storeReplicated(live, Math.max(1, this.timeoutMs - (now - newest.queuedAt)));
      }
    } finally {
      lane.busy = false;
    }
  }

  /**
   * One pipeline: the scripts for `pending` (EVALSHA, EVAL when the server does not have it) and
   * then `WAIT n waitMs` on the same connection — which counts the replicas that acknowledged every
   * write this connection made, these scripts' included.
   */
  private async storeReplicated(pending: readonly Pending[], waitMs: number): Promise<void> {
    const chunks: Pending[][] = [];
    for (let i = 0; i < pending.length; i += MAX_BATCH) chunks.push(pending.slice(i, i + MAX_BATCH));
    let replies: [Error | null, unknown][] | null = null;
    try {
      replies = await this.pipeline(chunks, waitMs, 'evalsha').exec();
      if (replies?.some(([error]) => error?.message.startsWith('NOSCRIPT'))) {
        replies = await this.pipeline(chunks, waitMs, 'eval').exec();
      }
    } catch (error) {
      for (const p of pending) p.reject(error instanceof Error ? error : new Error(errorMessage(error)));
      return;
    }
    const [waitError, acknowledged] = replies?.[chunks.length] ?? [new Error('no answer to WAIT'), 0];
    const shortBy =
      waitError !== null
        ? `could not wait for replicas: ${waitError.message}`
        : Number(acknowledged) < this.waitReplicas
          ? `${String(acknowledged)} of ${this.waitReplicas} replicas acknowledged within ${waitMs} ms (REDIS_WAIT_REPLICAS)`
          : undefined;
    this.reportReplicas(shortBy);
    chunks.forEach((chunk, i) => {
      const [error, results] = replies?.[i] ?? [new Error('no answer'), undefined];
      if (error !== null) for (const p of chunk) p.reject(error);
      else settle(chunk, results, shortBy);
    });
  }

  private pipeline(
    chunks: readonly Pending[][],
    waitMs: number,
    how: 'evalsha' | 'eval',
  ): ChainableCommander {
    const pipeline = this.redis.pipeline();
    for (const chunk of chunks) {
      const [keys, args] = this.command(chunk);
      pipeline[how](how === 'eval' ? STORE_UPDATES : STORE_UPDATES_SHA, keys.length, ...keys, ...args);
    }
    return pipeline.wait(this.waitReplicas, waitMs);
  }

  /** Logs once when replicas fall short and once when they are back, not per batch. */
  private reportReplicas(shortBy: string | undefined): void {
    if ((shortBy !== undefined) === this.replicasShort) return;
    this.replicasShort = shortBy !== undefined;
    if (shortBy !== undefined)
      this.logger.warn(`Updates are answered 503 until replicas catch up: ${shortBy}`);
    else this.logger.log(`Replicas acknowledge writes again (REDIS_WAIT_REPLICAS=${this.waitReplicas})`);
  }

  health(): PublisherHealth {
    return this.state.health();
  }
}

function groupBySlot(batch: readonly Pending[]): Pending[][] {
  const first = batch[0] as Pending;
  // One slot in the batch (one queue, the usual case): no map.
  if (batch.every((p) => p.queue.slot === first.queue.slot)) return [batch as Pending[]];
  const groups = new Map<number, Pending[]>();
  for (const pending of batch) {
    const group = groups.get(pending.queue.slot);
    if (group) group.push(pending);
    else groups.set(pending.queue.slot, [pending]);
  }
  return [...groups.values()];
}

/**
 * Answers each update from its script result: stored, a duplicate, or its own error. `shortBy`:
 * the replicas did not acknowledge the batch — stored or duplicate, it is refused (503), and
 * Telegram's retry is answered once they have.
 */
function settle(batch: readonly Pending[], results: unknown, shortBy?: string): void {
  const stored = results as readonly (number | string)[];
  for (let i = 0; i < batch.length; i++) {
    const pending = batch[i] as Pending;
    const result = stored[i];
    if (result !== 1 && result !== 0) {
      pending.reject(new Error(`could not store in ${pending.queue.name}: ${String(result)}`));
    } else if (shortBy !== undefined) pending.reject(new Error(shortBy));
    else pending.resolve(result === 1 ? 'published' : 'duplicate');
  }
}
