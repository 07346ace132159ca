import { sharedConnectionTarget, type BrokerTarget } from '../../broker-target.js';
import { RedisPubSubPublisher } from './redis-pubsub.publisher.js';

/**
 * Redis pub/sub (REDIS_PUBSUB=true, beside a configured Redis): RedisPubSubPublisher, on the one
 * Redis connection, which RedisModule opens at boot and closes.
 */
export function redisPubSubTarget(): BrokerTarget {
  return sharedConnectionTarget(RedisPubSubPublisher);
}
