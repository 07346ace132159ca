import { Logger } from '@nestjs/common';
import { ClientRedis, type ReadPacket } from '@nestjs/microservices';
import type { Redis, RedisOptions } from 'ioredis';
import { redactUrl } from '../common/redact.js';
import { BackgroundReconnect, describeError } from './background-reconnect.js';
import type { PublisherHealth } from './publisher.interface.js';

/** ioredis connection options from a `redis://` / `rediss://` URL (ClientRedis takes options, not a URL). */
export function redisUrlOptions(
  url: string,
): Pick<RedisOptions, 'host' | 'port' | 'username' | 'password' | 'db' | 'tls'> {
  const parsed = new URL(url);
  const db = parsed.pathname.replace(/^\//, '');
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/**
 * Nest's `ClientRedis` for Redis pub/sub. Lossy by nature: PUBLISH hands the message to the
 * subscribers connected at that moment and nothing keeps it — use the Redis queue for durability.
 * Changed so that:
 * - the message is the exact bytes given, not `JSON.stringify` of Nest's `{pattern, data}` packet;
 * - a publish fails at once while Redis is unreachable (no offline queue), for a fast 503.
 * ClientRedis also opens a subscriber connection for request/response replies; it stays idle.
 */
export class RedisPubSubClient extends ClientRedis {
  private readonly log = new Logger('RedisPubSubConnection');
  private readonly where: string;
  private readonly retry = new BackgroundReconnect(() => this.connect());
  private lastError?: string;
  private closed = false;

  constructor(url: string) {
    super({
      ...redisUrlOptions(url),
      // No offline queue and no resend: while Redis is down a publish fails at once instead of
      // piling up in memory.
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 5000,
      // ClientRedis gives up reconnecting unless told how often to retry: keep trying.
      retryAttempts: Number.MAX_SAFE_INTEGER,
      retryDelay: 1000,
    });
    this.where = redactUrl(url);
  }

  /** The publishing connection's state as ioredis knows it: no I/O. */
  health(): PublisherHealth {
    const status = this.publisher?.status ?? 'not created';
    if (status === 'ready') return { up: true };
    return {
      up: false,
      reason: `redis pub/sub connection to ${this.where} is ${status}${this.lastError ? `: ${this.lastError}` : ''}`,
    };
  }

  override connect(): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the Redis pub/sub client is closed'));
    const attempt = super.connect() as Promise<unknown>;
    attempt.then(
      () => {
        if (this.lastError) this.log.log(`Redis pub/sub at ${this.where} is back`);
        this.lastError = undefined;
      },
      (error: unknown) => {
        this.noteError(error);
        this.retry.schedule();
      },
    );
    return attempt;
  }

  override async close(): Promise<void> {
    this.closed = true;
    this.retry.stop();
    // ClientRedis.close() quits both connections, but without an offline queue quit() rejects on
    // a connection that is down — and leaves it reconnecting. Drop such connections here instead.
    for (const key of ['pubClient', 'subClient'] as const) {
      const client = this[key] as Redis | null;
      if (client && client.status !== 'ready') {
        client.disconnect();
        this[key] = null as never;
      }
    }
    await super.close();
  }

  /** ioredis emits an error on every failed reconnect: log a change of error, not each one. */
  override registerErrorListener(client: Redis): void {
    client.addListener('error', (error: Error) => this.noteError(error));
  }

  protected override dispatchEvent(packet: ReadPacket<Buffer>): Promise<void> {
    // Resolves once Redis answered the PUBLISH (with the number of receivers, possibly 0).
    const publisher = this.publisher;
    if (!publisher) return Promise.reject(new Error(this.health().reason));
    return publisher.publish(packet.pattern as string, packet.data).then(() => undefined);
  }

  /** ClientRedis types its connections loosely; this is the publishing one. */
  private get publisher(): Redis | undefined {
    return (this.pubClient as Redis | null) ?? undefined;
  }

  private noteError(error: unknown): void {
    if (this.closed) return;
    const message = describeError(error);
    if (message !== this.lastError) this.log.error(`Redis pub/sub at ${this.where}: ${message}`);
    this.lastError = message;
  }
}
