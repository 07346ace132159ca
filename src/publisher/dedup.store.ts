import type { RedisConnection } from '../redis/redis.constants.js';

/**
 * Ids per dedup block: (bot, update_id) pairs are remembered one bit each, in blocks of this many
 * consecutive ids per bot — Redis bitmaps (one key per block) and their in-memory twin.
 *
 * Why bits: a bot's update_ids "start from a certain positive number and increase sequentially"
 * (Bot API, Update), so the ids it sent in a day form a dense range, and a bit per id is all a
 * pair needs. Why this size: a block costs its key (Redis) or object (memory) on top of its bits,
 * and a bot with few updates pays for a whole block; 1,024 ids keep both the dense case far under a
 * byte per update and the sparse one (many bots, few updates each) at a few bytes — README
 * "Redis in production" has the measurements.
 */
export const DEDUP_BLOCK_IDS = 1024;

/** The block an update_id falls in; any integer up to 2^53 either way (arithmetic, not 32-bit bit operations). */
export function dedupBlock(updateId: number): number {
  return Math.floor(updateId / DEDUP_BLOCK_IDS);
}

/** Its bit within that block, 0 … DEDUP_BLOCK_IDS - 1. */
export function dedupBit(updateId: number, block: number): number {
  return updateId - block * DEDUP_BLOCK_IDS;
}

/**
 * Remembers which (bot, update_id) pairs reached every target, for at least DEDUP_TTL_SECONDS: a
 * pair, never "higher than the last id" — update_ids start at random and arrive out of order
 * across chats.
 */
export interface DedupStore {
  has(botId: string, updateId: number): Promise<boolean>;
  add(botId: string, updateId: number): Promise<void>;
}

const WORDS = DEDUP_BLOCK_IDS / 32;

/** One bot's block of ids in memory, linked into the store's list by last write. */
class Block {
  readonly bits = new Int32Array(WORDS);
  /** Bits set: the pairs this block remembers. */
  count = 0;
  /** Epoch ms: DEDUP_TTL_SECONDS after its last write. */
  expires = 0;
  older?: Block;
  newer?: Block;

  constructor(
    readonly blocks: Map<number, Block>,
    readonly botId: string,
    readonly index: number,
  ) {}
}

/**
 * In-process store: per bot a map of blocks, each expiring DEDUP_TTL_SECONDS after its last write,
 * and bounded by DEDUP_MAX_ENTRIES pairs — beyond it the block written longest ago goes first, all
 * its ids at once (the block being written stays).
 */
export class MemoryDedupStore implements DedupStore {
  private readonly bots = new Map<string, Map<number, Block>>();
  /** Least recently written block first; expiry order too, since every write moves its block last. */
  private oldest?: Block;
  private newest?: Block;
  private pairs = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  /** Pairs remembered. */
  get size(): number {
    return this.pairs;
  }

  has(botId: string, updateId: number): Promise<boolean> {
    const index = dedupBlock(updateId);
    const block = this.bots.get(botId)?.get(index);
    if (block === undefined) return Promise.resolve(false);
    if (block.expires <= Date.now()) {
      this.drop(block);
      return Promise.resolve(false);
    }
    const bit = dedupBit(updateId, index);
    return Promise.resolve((block.bits[bit >>> 5]! & (1 << (bit & 31))) !== 0);
  }

  add(botId: string, updateId: number): Promise<void> {
    const now = Date.now();
    while (this.oldest !== undefined && this.oldest.expires <= now) this.drop(this.oldest);
    let blocks = this.bots.get(botId);
    if (blocks === undefined) this.bots.set(botId, (blocks = new Map<number, Block>()));
    const index = dedupBlock(updateId);
    let block = blocks.get(index);
    if (block === undefined) blocks.set(index, (block = new Block(blocks, botId, index)));
    else this.unlink(block);
    this.link(block);
    block.expires = now + this.ttlMs;
    const bit = dedupBit(updateId, index);
    const mask = 1 << (bit & 31);
    const word = block.bits[bit >>> 5]!;
    if ((word & mask) === 0) {
      block.bits[bit >>> 5] = word | mask;
      block.count++;
      this.pairs++;
    }
    while (this.pairs > this.maxEntries && this.oldest !== undefined && this.oldest !== block) {
      this.drop(this.oldest);
    }
    return Promise.resolve();
  }

  private drop(block: Block): void {
    this.unlink(block);
    block.blocks.delete(block.index);
    if (block.blocks.size === 0) this.bots.delete(block.botId);
    this.pairs -= block.count;
  }

  private link(block: Block): void {
    block.older = this.newest;
    block.newer = undefined;
    if (this.newest !== undefined) this.newest.newer = block;
    else this.oldest = block;
    this.newest = block;
  }

  private unlink(block: Block): void {
    if (block.older !== undefined) block.older.newer = block.newer;
    else if (this.oldest === block) this.oldest = block.newer;
    if (block.newer !== undefined) block.newer.older = block.older;
    else if (this.newest === block) this.newest = block.older;
    block.older = block.newer = undefined;
  }
}

/** Sets the bit and renews the block's expiry, atomically: a block never lives on without a TTL. */
const MARK_SEEN = `
redis.call('SETBIT', KEYS[1], ARGV[1], 1)
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1`;

const MARK_SEEN_COMMAND = 'markSeen';

type MarkSeen = (key: string, bit: number, ttlSeconds: number) => Promise<unknown>;

/**
 * Shared by every replica: Redis bitmaps `<prefix><bot id>:b<block>` (bit = update_id's place in
 * its block), each expiring DEDUP_TTL_SECONDS after its last write. One key per command, so it
 * works on a Cluster as on one server.
 */
export class RedisDedupStore implements DedupStore {
  private readonly markSeen: MarkSeen;

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {
    redis.defineCommand(MARK_SEEN_COMMAND, { numberOfKeys: 1, lua: MARK_SEEN });
    const commands = redis as unknown as Record<typeof MARK_SEEN_COMMAND, MarkSeen>;
    this.markSeen = commands[MARK_SEEN_COMMAND].bind(redis);
  }

  async has(botId: string, updateId: number): Promise<boolean> {
    const block = dedupBlock(updateId);
    return (await this.redis.getbit(this.key(botId, block), dedupBit(updateId, block))) === 1;
  }

  async add(botId: string, updateId: number): Promise<void> {
    const block = dedupBlock(updateId);
    await this.markSeen(this.key(botId, block), dedupBit(updateId, block), this.ttlSeconds);
  }

  private key(botId: string, block: number): string {
    return `${this.prefix}${botId}:b${block}`;
  }
}
