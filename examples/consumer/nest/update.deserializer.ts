import type { ConsumerDeserializer, IncomingEvent } from '@nestjs/microservices';
import { decodeUpdate } from '../telegram.js';

interface NatsMessageLike {
  subject: string;
  data: Uint8Array;
  headers?: { get(key: string): string };
}

function isNatsMessage(value: unknown): value is NatsMessageLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as NatsMessageLike).subject === 'string' &&
    (value as NatsMessageLike).data instanceof Uint8Array
  );
}

/** The bot id in a name laid out as `…<bot>.<type>` (the receiver's default subjects and channels). */
export function botOfName(name: string): number | undefined {
  return numberOrUndefined(name.split('.').at(-2));
}

function numberOrUndefined(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Lets a Nest microservice consume telegram-receiver's messages with `@EventPattern`. The receiver
 * sends the plain Update JSON (or the envelope with PUBLISH_FORMAT=envelope), not Nest's
 * `{pattern, data}` packet, so Nest's default deserializers would see no pattern. This one turns
 * either format into an event whose data is a `ReceivedUpdate` (`update`, `bot`, `type`):
 * - RabbitMQ: pattern = the routing key `<bot>.<type>` (rebuilt from the message headers `bot`
 *   and `type`, which the RMQ server hands over as message properties);
 * - NATS: pattern = the subject; the bot from the `bot` header;
 * - Redis pub/sub: pattern = the channel; the bot from the channel `telegram.<bot>.<type>`, which
 *   with `wildcards: true` only the handler's RedisContext knows.
 *
 * Use it as the `deserializer` of the microservice's transport options.
 */
export class TelegramUpdateDeserializer implements ConsumerDeserializer {
  deserialize(value: unknown, options?: Record<string, unknown>): IncomingEvent {
    // NATS hands over the message itself; RabbitMQ and Redis the body, already parsed as JSON.
    if (isNatsMessage(value)) {
      return {
        pattern: value.subject,
        data: decodeUpdate(value.data, numberOrUndefined(value.headers?.get('bot'))),
      };
    }
    const channel = typeof options?.channel === 'string' ? options.channel : undefined;
    if (channel !== undefined) {
      // With `wildcards: true` this is the subscribed pattern (`telegram.*.message`), not the
      // channel: the handler then takes the bot from RedisContext.getChannel() (see botOfName).
      return { pattern: channel, data: decodeUpdate(value as object, botOfName(channel)) };
    }
    const headers = (options?.headers ?? {}) as Record<string, unknown>;
    const received = decodeUpdate(value as object, numberOrUndefined(headers.bot));
    return { pattern: `${received.bot}.${received.type}`, data: received };
  }
}
