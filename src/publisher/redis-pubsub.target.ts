import { connectedTarget, type BrokerTarget } from './broker-target.js';
import { RedisPubSubClient } from './redis-pubsub.client.js';
import { RedisPubSubPublisher } from './redis-pubsub.publisher.js';

/** Redis pub/sub (REDIS_PUBSUB=true), on a connection of its own, published to by RedisPubSubPublisher. */
export function redisPubSubTarget(): BrokerTarget {
  return connectedTarget(
    RedisPubSubClient,
    'Redis pub/sub',
    RedisPubSubPublisher,
    (settings) => new RedisPubSubClient(settings.REDIS_URL as string),
  );
}
