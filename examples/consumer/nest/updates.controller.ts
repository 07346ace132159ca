import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload, RedisContext, RmqContext, Transport } from '@nestjs/microservices';
import type { Channel, Message } from 'amqplib';
import type { ReceivedUpdate } from '../telegram.js';
import { botOfName } from './update.deserializer.js';

/** What the worker does with each text message update. */
export type UpdateHandler = (received: ReceivedUpdate) => Promise<void>;
export const UPDATE_HANDLER = Symbol('example:update-handler');

/**
 * One handler per transport, because each names updates its own way — the receiver's defaults:
 * RabbitMQ routing key `<bot>.<type>`, NATS subject and Redis channel `telegram.<bot>.<type>`.
 * The event data is the same `ReceivedUpdate` whichever PUBLISH_FORMAT the receiver uses, thanks
 * to TelegramUpdateDeserializer.
 */
@Controller()
export class UpdatesController {
  constructor(@Inject(UPDATE_HANDLER) private readonly handle: UpdateHandler) {}

  @EventPattern('*.message', Transport.RMQ)
  async fromRabbitMq(@Payload() received: ReceivedUpdate, @Ctx() context: unknown): Promise<void> {
    await this.handle(received);
    // With noAck: false the message is acknowledged only once handled: a crash redelivers it.
    if (context instanceof RmqContext) {
      (context.getChannelRef() as Channel).ack(context.getMessage() as Message);
    }
  }

  @EventPattern('telegram.*.message', Transport.NATS)
  fromNats(@Payload() received: ReceivedUpdate): Promise<void> {
    return this.handle(received);
  }

  @EventPattern('telegram.*.message', Transport.REDIS)
  fromRedis(@Payload() received: ReceivedUpdate, @Ctx() context: unknown): Promise<void> {
    // A raw Update does not name its bot; the concrete channel `telegram.<bot>.message` does.
    const bot =
      received.bot ?? (context instanceof RedisContext ? botOfName(context.getChannel()) : undefined);
    return this.handle({ ...received, bot });
  }
}
