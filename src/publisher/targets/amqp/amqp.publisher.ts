import { Inject, Injectable } from '@nestjs/common';
import { lastValueFrom } from 'rxjs';
import { RECEIVER_CONFIG } from '../../../config/config.constants.js';
import type { ReceiverConfig } from '../../../config/load-settings.js';
import { describeError } from '../../background-reconnect.js';
import { AmqpConfirmClient, AmqpMessage } from './amqp.client.js';
import { AMQP_CLIENT } from './amqp.constants.js';
import { longerThanBytes } from '../../broker-target.js';
import type {
  InboundUpdate,
  PublisherHealth,
  PublishResult,
  UpdatePublisher,
} from '../../publisher.interface.js';
import { TopicTemplate } from '../../topic-template.js';

/**
 * The routing key and the `type` property are AMQP short strings: at most 255 bytes. amqplib
 * throws on a longer one inside amqp-connection-manager's send loop, where the publish is neither
 * sent nor failed until its timeout, so it is checked here. The key holds the type, so one check
 * covers both; what else goes in the message's header frame is then small and fixed.
 */
const MAX_SHORT_STRING_BYTES = 255;

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
    @Inject(AMQP_CLIENT) private readonly client: AmqpConfirmClient,
    @Inject(RECEIVER_CONFIG) config: ReceiverConfig,
  ) {
    if (config.settings.AMQP_TYPES) this.types = new Set(config.settings.AMQP_TYPES);
  }

  async publish(update: InboundUpdate): Promise<PublishResult> {
    const bot = update.bot.idText;
    const routingKey = this.routingKey.render(bot, update.type);
    if (longerThanBytes(routingKey, MAX_SHORT_STRING_BYTES)) {
      throw new Error(
        `not sent: the routing key is ${Buffer.byteLength(routingKey)} bytes long; AMQP allows ${MAX_SHORT_STRING_BYTES}`,
      );
    }
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
      await lastValueFrom(this.client.emit(routingKey, message), {
        defaultValue: undefined,
      });
    } catch (error) {
      // A client may reject with a bare string: give PublishService an Error.
      throw new Error(describeError(error));
    }
    return 'published';
  }

  health(): PublisherHealth {
    return this.client.health();
  }
}
