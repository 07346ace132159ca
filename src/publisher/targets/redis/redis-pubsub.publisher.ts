import { Inject, Injectable } from '@nestjs/common';
import { RECEIVER_CONFIG } from '../../../config/config.constants.js';
import type { ReceiverConfig } from '../../../config/load-settings.js';
import { RedisState } from '../../../redis/redis-state.js';
import { REDIS_CONNECTION, type RedisConnection } from '../../../redis/redis.constants.js';
import type {
  InboundUpdate,
  PublisherHealth,
  PublishResult,
  UpdatePublisher,
} from '../../publisher.interface.js';
import { TopicTemplate } from '../../topic-template.js';

/**
 * Redis PUBLISH on REDIS_PUBSUB_CHANNEL (default `telegram.{bot}.{type}`), beside the Redis queue
 * when REDIS_PUBSUB=true, on the shared Redis connection (on a Cluster, PUBLISH reaches every
 * node's subscribers). Lossy: confirmed once Redis answered the
 * PUBLISH, but only subscribers connected at that moment receive the message — nothing keeps it.
 */
@Injectable()
export class RedisPubSubPublisher implements UpdatePublisher {
  readonly name = 'redis-pubsub';
  readonly types?: ReadonlySet<string>;
  private readonly channel: TopicTemplate;

  constructor(
    @Inject(REDIS_CONNECTION) private readonly redis: RedisConnection,
    private readonly state: RedisState,
    @Inject(RECEIVER_CONFIG) config: ReceiverConfig,
  ) {
    this.channel = new TopicTemplate(config.settings.REDIS_PUBSUB_CHANNEL);
    if (config.settings.REDIS_PUBSUB_TYPES) this.types = new Set(config.settings.REDIS_PUBSUB_TYPES);
  }

  async publish(update: InboundUpdate): Promise<PublishResult> {
    // The exact payload bytes: no Nest `{pattern, data}` packet around them.
    await this.redis.publish(this.channel.render(update.bot.idText, update.type), update.payload);
    return 'published';
  }

  health(): PublisherHealth {
    return this.state.health();
  }
}
