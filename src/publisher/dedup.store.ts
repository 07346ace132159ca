import type { Redis } from 'ioredis';

/**
 * Remembers which (bot, update_id) pairs reached every target, for DEDUP_TTL_SECONDS. Keys are
 * `<bot id>:<update_id>`: a pair, never "higher than the last id" — update_ids start at random
 * and arrive out of order across chats.
 */
export interface DedupStore {
  has(key: string): Promise<boolean>;
  add(key: string): Promise<void>;
}

/** In-process store, bounded by count: the oldest entries go first once DEDUP_MAX_ENTRIES is reached. */
export class MemoryDedupStore implements DedupStore {
  /** key → expiry (epoch ms). A Map iterates in insertion order, which is expiry order too. */
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  has(key: string): Promise<boolean> {
    const expires = this.entries.get(key);
    if (expires === undefined) return Promise.resolve(false);
    if (expires > Date.now()) return Promise.resolve(true);
    this.entries.delete(key);
    return Promise.resolve(false);
  }

  add(key: string): Promise<void> {
    this.entries.delete(key);
    this.entries.set(key, Date.now() + this.ttlMs);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return Promise.resolve();
  }
}

/** Shared by every replica: a key with a TTL per pair. */
export class RedisDedupStore implements DedupStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}

  async has(key: string): Promise<boolean> {
    return (await this.redis.exists(this.prefix + key)) === 1;
  }

  async add(key: string): Promise<void> {
    await this.redis.set(this.prefix + key, '1', 'EX', this.ttlSeconds);
  }
}
