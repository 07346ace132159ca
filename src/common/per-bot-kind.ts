/**
 * Kinds kept per bot at most. Callers key by Telegram's kinds (plus `other` and the kinds the
 * configuration names), so this is a backstop: a caller keying by input would stop growing here.
 */
const MAX_KINDS_PER_BOT = 256;

/**
 * Values the hot path keeps per bot and update kind (route caches, metric cells). Bots are found
 * by their 1-based config index in an array: with a thousand bots, a map of them missed the CPU
 * cache on every update. Slot 0 is free for a value every bot shares.
 */
export class PerBotKind<T> {
  private readonly slots: (Map<string, T> | undefined)[] = [];

  find(slot: number, kind: string): T | undefined {
    return this.slots[slot]?.get(kind);
  }

  /** Keeps `value` (unless the slot already holds MAX_KINDS_PER_BOT kinds) and returns it. */
  keep(slot: number, kind: string, value: T): T {
    let byKind = this.slots[slot];
    if (!byKind) this.slots[slot] = byKind = new Map();
    if (byKind.size < MAX_KINDS_PER_BOT) byKind.set(kind, value);
    return value;
  }

  /** How many kinds the slot holds. */
  size(slot: number): number {
    return this.slots[slot]?.size ?? 0;
  }
}
