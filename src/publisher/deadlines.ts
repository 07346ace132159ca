/** One timeout in Deadlines: `expire` runs when it falls due, unless it was settled first. */
export interface Deadline {
  readonly at: number;
  expire: (() => void) | undefined;
}

/**
 * Timeouts that all last `ms`, on one timer. Added in order, they fall due in order: the timer
 * waits only for the oldest, and a settled one is dropped from the front as soon as everything
 * before it has settled too — publishes mostly settle in the order they began, so the queue holds
 * about what is in flight.
 *
 * PublishService bounds every publish by PUBLISH_TIMEOUT_MS with it. A Timeout of its own per
 * publish is an object, a closure, two timer-list links and a clearTimeout, and with thousands of
 * requests in flight each of them lives across young collections; an entry here is one small
 * object and an array slot.
 */
export class Deadlines {
  private entries: Deadline[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number) {}

  /** Starts a timeout; `settle` it when what it bounds finished in time. */
  add(expire: () => void): Deadline {
    const deadline: Deadline = { at: performance.now() + this.ms, expire };
    this.entries.push(deadline);
    this.timer ??= setTimeout(this.fire, this.ms);
    return deadline;
  }

  /** `expire` will not run; the entry leaves the queue once those before it are settled too. */
  settle(deadline: Deadline): void {
    deadline.expire = undefined;
    if (this.entries[this.head] === deadline) this.dropSettled();
  }

  private dropSettled(): void {
    const { entries } = this;
    while (this.head < entries.length && (entries[this.head] as Deadline).expire === undefined) {
      this.head++;
    }
    if (this.head === entries.length) {
      this.entries = [];
      this.head = 0;
      clearTimeout(this.timer);
      this.timer = undefined;
    } else if (this.head > 1024 && this.head * 2 > entries.length) {
      this.entries = entries.slice(this.head);
      this.head = 0;
    }
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = performance.now();
    // In order of `at`: the first not yet due ends the round (settled ones after it dropSettled skips).
    while (this.head < this.entries.length) {
      const first = this.entries[this.head] as Deadline;
      if (first.at > now) break;
      this.head++;
      const expire = first.expire;
      first.expire = undefined;
      expire?.();
    }
    this.dropSettled();
    const next = this.entries[this.head];
    if (next !== undefined) this.timer ??= setTimeout(this.fire, Math.max(1, Math.ceil(next.at - now)));
  };
}
