import { Inject, Injectable } from '@nestjs/common';
import { lastValueFrom } from 'rxjs';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { describeError } from './background-reconnect.js';
import { AmqpConfirmClient, AmqpMessage } from './amqp.client.js';
import type {
  InboundUpdate,
  PublisherHealth,
  PublishResult,
  UpdatePublisher,
} from './publisher.interface.js';
import { TopicTemplate } from './topic-template.js';

/**
 * RabbitMQ: each update goes to the durable topic exchange AMQP_EXCHANGE with routing key
 * `<bot id>.<type>`, as a persistent message whose body is the payload (the exact Update bytes,
 * or the envelope) and whose headers carry `bot`, `update_id` and `type`. Confirmed on the
 * broker's publisher confirm. Bind a queue to the exchange before updates flow: like any topic
 * exchange, RabbitMQ confirms and drops a message no queue is bound for.
 */
@Injectable()
export class AmqpPublisher implements UpdatePublisher {
  readonly name = 'amqp';
  readonly types?: ReadonlySet<string>;
  private readonly routingKey = new TopicTemplate('{bot}.{type}');

  constructor(
    private readonly client: AmqpConfirmClient,
    @Inject(RECEIVER_CONFIG) config: ReceiverConfig,
  ) {
    if (config.settings.AMQP_TYPES) this.types = new Set(config.settings.AMQP_TYPES);
  }

  async publish(update: InboundUpdate): Promise<PublishResult> {
    const bot = update.bot.idText;
    const message = new AmqpMessage(update.payload, {
      persistent: true,
      contentType: 'application/json',
      type: update.type,
      messageId: `${bot}:${update.updateId}`,
      timestamp: Math.floor(update.receivedAt / 1000),
      appId: 'telegram-receiver',
      headers: { bot: update.bot.id, update_id: update.updateId, type: update.type },
    });
    try {
      // emit() is hot and drops its errors unless subscribed: wait for the publisher confirm.
      await lastValueFrom(this.client.emit(this.routingKey.render(bot, update.type), message), {
        defaultValue: undefined,
      });
    } catch (error) {
      // ClientRMQ rejects with a bare string while reconnecting: give PublishService an Error.
      throw new Error(describeError(error));
    }
    return 'published';
  }

  health(): PublisherHealth {
    return this.client.health();
  }
}
