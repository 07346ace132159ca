import { jest } from '@jest/globals';
import { Deadlines } from './deadlines.js';

describe('Deadlines', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('expires each entry once its time has passed, oldest first, and settled ones never', () => {
    const deadlines = new Deadlines(100);
    const expired: string[] = [];
    deadlines.add(() => expired.push('a'));
    const b = deadlines.add(() => expired.push('b'));
    jest.advanceTimersByTime(40);
    deadlines.add(() => expired.push('c'));
    deadlines.settle(b);
    jest.advanceTimersByTime(59);
    expect(expired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(expired).toEqual(['a']);
    jest.advanceTimersByTime(39);
    expect(expired).toEqual(['a']);
    jest.advanceTimersByTime(1);
    expect(expired).toEqual(['a', 'c']);
  });

  it('holds no timer once everything has settled, and starts one again for the next entry', () => {
    const deadlines = new Deadlines(100);
    const first = deadlines.add(() => undefined);
    const second = deadlines.add(() => undefined);
    expect(jest.getTimerCount()).toBe(1);
    deadlines.settle(second);
    expect(jest.getTimerCount()).toBe(1);
    deadlines.settle(first);
    expect(jest.getTimerCount()).toBe(0);
    const expired = jest.fn();
    deadlines.add(expired);
    jest.advanceTimersByTime(100);
    expect(expired).toHaveBeenCalledTimes(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('keeps only what is in flight when entries settle in order, however many went through', () => {
    const deadlines = new Deadlines(1000);
    const expired = jest.fn();
    const stuck = deadlines.add(expired);
    // One entry that never settles holds the settled ones after it until it expires …
    for (let i = 0; i < 5000; i++) deadlines.settle(deadlines.add(expired));
    expect(queued(deadlines)).toBe(5001);
    jest.advanceTimersByTime(1000);
    expect(expired).toHaveBeenCalledTimes(1);
    expect(queued(deadlines)).toBe(0);
    // … and without one, each settled entry leaves at once.
    for (let i = 0; i < 5000; i++) deadlines.settle(deadlines.add(expired));
    expect(queued(deadlines)).toBe(0);
    deadlines.settle(stuck);
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it('drops the settled entries at the front once it has passed over a thousand of them', () => {
    const deadlines = new Deadlines(1000);
    const open = Array.from({ length: 3000 }, () => deadlines.add(() => undefined));
    for (const deadline of open.slice(0, 2000)) deadlines.settle(deadline);
    expect(queued(deadlines)).toBe(1000);
  });
});

/** Entries the queue still holds (settled ones behind an open one included). */
function queued(deadlines: Deadlines): number {
  const internals = deadlines as unknown as { entries: unknown[]; head: number };
  return internals.entries.length - internals.head;
}
