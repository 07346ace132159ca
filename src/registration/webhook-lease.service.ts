import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap } from '@nestjs/common';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { errorMessage } from '../common/error-message.js';
import { REDIS_CONNECTION, type RedisConnection } from '../redis/redis.constants.js';

/** How long a replica counts as alive without renewing, and how often it renews. */
const LEASE_MS = 30_000;
const RENEW_MS = 10_000;

/** Removes this replica and expired ones, then counts who is left — atomically. */
const RELEASE = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
return redis.call('ZCARD', KEYS[1])`;

/**
 * Which replicas serve the same bots, so that only the last one to stop removes the webhook: a
 * rolling restart then never stops delivery. Each replica holds a short lease in a Redis sorted
 * set (score = expiry), renewed every 10 s; a replica that died without releasing drops out
 * after 30 s. One key, so it works alike on one Redis, a Sentinel group's master and a Cluster.
 * Without Redis there is no lease, and TELEGRAM_DELETE_WEBHOOK alone decides.
 */
@Injectable()
export class WebhookLease implements OnApplicationBootstrap {
  private readonly logger = new Logger(WebhookLease.name);
  readonly replicaId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly key: string;
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(RECEIVER_CONFIG) config: ReceiverConfig,
    @Optional() @Inject(REDIS_CONNECTION) private readonly redis?: RedisConnection,
  ) {
    // Keyed by the bots served (their endpoints, never tokens): deployments sharing a Redis keep apart.
    const bots = createHash('sha256')
      .update(
        config.bots
          .map((b) => b.endpoint)
          .sort()
          .join('\n'),
      )
      .digest('base64url')
      .slice(0, 16);
    this.key = `${config.settings.REDIS_QUEUE_NAME}:replicas:${bots}`;
  }

  get enabled(): boolean {
    return this.redis !== undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.redis) return;
    await this.renew();
    this.timer = setInterval(() => void this.renew(), RENEW_MS);
    this.timer.unref();
  }

  /** Other live replicas besides this one (0 when there is no lease). */
  async others(): Promise<number> {
    if (!this.redis) return 0;
    return (await this.redis.zcount(this.key, Date.now(), '+inf')) - 1;
  }

  /**
   * Gives up this replica's lease. Resolves true when no other replica holds one — this is the
   * last, and may remove the webhook — or when there is no lease at all.
   */
  async release(): Promise<boolean> {
    clearInterval(this.timer);
    if (!this.redis) return true;
    const left = (await this.redis.eval(RELEASE, 1, this.key, this.replicaId, Date.now())) as number;
    return left === 0;
  }

  private async renew(): Promise<void> {
    try {
      await this.redis?.zadd(this.key, Date.now() + LEASE_MS, this.replicaId);
    } catch (error) {
      this.logger.warn(`Could not renew the replica lease: ${errorMessage(error)}`);
    }
  }
}
