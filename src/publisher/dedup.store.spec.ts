import { jest } from '@jest/globals';
import { DEDUP_BLOCK_IDS, dedupBit, dedupBlock, MemoryDedupStore } from './dedup.store.js';

describe('dedup blocks', () => {
  it.each([
    [0, 0, 0],
    [1023, 0, 1023],
    [1024, 1, 0],
    [-1, -1, 1023],
    [-1024, -1, 0],
    [2 ** 31, 2 ** 21, 0],
    [2 ** 53 - 1, 2 ** 43 - 1, 1023],
    [-(2 ** 53 - 1), -(2 ** 43), 1],
  ])('update_id %d is in block %d, bit %d', (id, block, bit) => {
    expect(dedupBlock(id)).toBe(block);
    expect(dedupBit(id, dedupBlock(id))).toBe(bit);
    expect(dedupBlock(id) * DEDUP_BLOCK_IDS + dedupBit(id, dedupBlock(id))).toBe(id);
  });
});

describe('MemoryDedupStore', () => {
  afterEach(() => jest.useRealTimers());

  it('remembers a pair, not "higher than the last one": ids out of order, old after new, a jump, any bot', async () => {
    const sut = new MemoryDedupStore(60_000, 1_000_000);
    const ids = [500_000_123, 500_000_125, 500_000_124, 7, 2 ** 53 - 1, -(2 ** 53 - 1), 0, 1023, 1024];
    for (const id of ids) {
      await expect(sut.has('42', id)).resolves.toBe(false);
      await sut.add('42', id);
      await expect(sut.has('42', id)).resolves.toBe(true);
    }
    for (const id of ids) await expect(sut.has('42', id)).resolves.toBe(true);
    await expect(sut.has('43', 500_000_123)).resolves.toBe(false);
    await expect(sut.has('42', 500_000_126)).resolves.toBe(false);
    await sut.add('42', 7);
    expect(sut.size).toBe(ids.length);
  });

  it('agrees with a set of pairs on a random mix of bots, dense runs, jumps and repeats', async () => {
    const sut = new MemoryDedupStore(60_000, 1_000_000);
    const reference = new Set<string>();
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const next = [1, 2, 3].map(() => random(2 ** 30));
    for (let i = 0; i < 20_000; i++) {
      const bot = random(3);
      let id: number;
      const roll = random(100);
      if (roll < 3)
        id = random(2 ** 31) - 2 ** 30; // a jump to a new range
      else if (roll < 20)
        id = (next[bot] as number) - random(2_000); // an old or repeated id
      else id = next[bot] = (next[bot] as number) + 1;
      const key = `${bot}:${id}`;
      await expect(sut.has(String(bot), id)).resolves.toBe(reference.has(key));
      if (random(2) === 0) {
        await sut.add(String(bot), id);
        reference.add(key);
      }
    }
    expect(sut.size).toBe(reference.size);
  });

  it('forgets a block DEDUP_TTL_SECONDS after its last write, not after its first', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const sut = new MemoryDedupStore(1_000, 1_000_000);
    await sut.add('42', 10);
    jest.advanceTimersByTime(900);
    await sut.add('42', 11); // same block: renews it
    jest.advanceTimersByTime(900);
    await expect(sut.has('42', 10)).resolves.toBe(true);
    jest.advanceTimersByTime(100);
    await expect(sut.has('42', 10)).resolves.toBe(false);
    await expect(sut.has('42', 11)).resolves.toBe(false);
    expect(sut.size).toBe(0);
  });

  it('drops expired blocks of bots that stopped sending, so they hold no memory', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const sut = new MemoryDedupStore(1_000, 1_000_000);
    for (let bot = 0; bot < 100; bot++) await sut.add(String(bot), 5);
    expect(sut.size).toBe(100);
    jest.advanceTimersByTime(1_000);
    await sut.add('other', 5);
    expect(sut.size).toBe(1);
  });

  it('beyond DEDUP_MAX_ENTRIES pairs forgets the block written longest ago, all its ids at once', async () => {
    const sut = new MemoryDedupStore(60_000, 1_500);
    for (let id = 0; id < 1_000; id++) await sut.add('a', id); // block 0 of bot a
    for (let id = 0; id < 400; id++) await sut.add('b', id); // block 0 of bot b
    await sut.add('a', 1_000); // still a's block 0: written again, now the newest
    expect(sut.size).toBe(1_401);
    // b's writes make its block the newest again; past 1,500 pairs a's block, written longest ago, goes.
    for (let id = 400; id < 600; id++) await sut.add('b', id);
    expect(sut.size).toBe(600);
    await expect(sut.has('a', 5)).resolves.toBe(false);
    await expect(sut.has('b', 5)).resolves.toBe(true);
  });
});

describe('MemoryDedupStore with a bound below one block', () => {
  it('keeps the block being written', async () => {
    const sut = new MemoryDedupStore(60_000, 2);
    for (const id of [1, 2, 3]) await sut.add('a', id);
    await sut.add('b', 1);
    expect(sut.size).toBe(1);
    await expect(sut.has('a', 1)).resolves.toBe(false);
    await expect(sut.has('b', 1)).resolves.toBe(true);
  });
});
