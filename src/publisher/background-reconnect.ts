/**
 * Retries a broker client's first connection in the background. The NATS and Kafka clients
 * reconnect by themselves once they have been connected, but a first attempt that fails is
 * dropped, and the next try happens only when something calls `connect()` again — a publish does,
 * but a replica whose readiness is 503 receives no updates, so it would never recover. This loop
 * keeps trying until the client connects or is closed. (amqp-connection-manager retries a first
 * attempt itself.)
 */
export class BackgroundReconnect {
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly connect: () => Promise<unknown>,
    private readonly delayMs = 1000,
  ) {}

  /** Tries again after the delay, unless a retry is already pending or the client was closed. */
  schedule(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // A failed attempt calls schedule() again through the client's connect().
      this.connect().catch(() => undefined);
    }, this.delayMs);
    // Never the reason the process stays alive.
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** An error message for logs and `/status` from whatever a client rejected with (some reject with strings). */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // Client errors can quote the URL they used; never let credentials through.
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^@\s/]*@/gi, '$1');
}
