import { sharedConnectionTarget, type BrokerTarget } from '../../broker-target.js';
import { RedisQueuePublisher } from './redis-queue.publisher.js';

/**
 * The Redis queue (a Redis configured, unless REDIS_QUEUE=false): RedisQueuePublisher, on the one
 * Redis connection, which RedisModule opens at boot and closes.
 */
export function redisQueueTarget(): BrokerTarget {
  return sharedConnectionTarget(RedisQueuePublisher);
}
