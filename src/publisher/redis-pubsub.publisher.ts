import { Inject, Injectable } from '@nestjs/common';
import { lastValueFrom } from 'rxjs';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { describeError } from './background-reconnect.js';
import type {
  InboundUpdate,
  PublisherHealth,
  PublishResult,
  UpdatePublisher,
} from './publisher.interface.js';
import { RedisPubSubClient } from './redis-pubsub.client.js';
import { TopicTemplate } from './topic-template.js';

/**
 * Redis PUBLISH on REDIS_PUBSUB_CHANNEL (default `telegram.{bot}.{type}`), beside the Redis queue
 * when REDIS_PUBSUB=true. Lossy: confirmed once Redis answered the PUBLISH, but only subscribers
 * connected at that moment receive the message — nothing keeps it for the others.
 */
@Injectable()
export class RedisPubSubPublisher implements UpdatePublisher {
  readonly name = 'redis-pubsub';
  readonly types?: ReadonlySet<string>;
  private readonly channel: TopicTemplate;

  constructor(
    private readonly client: RedisPubSubClient,
    @Inject(RECEIVER_CONFIG) config: ReceiverConfig,
  ) {
    this.channel = new TopicTemplate(config.settings.REDIS_PUBSUB_CHANNEL);
    if (config.settings.REDIS_PUBSUB_TYPES) this.types = new Set(config.settings.REDIS_PUBSUB_TYPES);
  }

  async publish(update: InboundUpdate): Promise<PublishResult> {
    try {
      // emit() is hot and drops its errors unless subscribed: wait for Redis's answer.
      await lastValueFrom(
        this.client.emit(this.channel.render(update.bot.idText, update.type), update.payload),
        { defaultValue: undefined },
      );
    } catch (error) {
      // ClientRedis rejects with a bare string while reconnecting: give PublishService an Error.
      throw new Error(describeError(error));
    }
    return 'published';
  }

  health(): PublisherHealth {
    return this.client.health();
  }
}
