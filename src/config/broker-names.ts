import {
  describeCharacter,
  MAX_EXCHANGE_BYTES,
  MAX_MQTT_TOPIC_LENGTH,
  MAX_NAME_LENGTH,
  tooLong,
} from './limits.js';
import { MAX_KIND_LENGTH } from '../common/update-kinds.js';

/*
 * What each broker refuses in a name the service publishes to. Templates get only `{type}` and
 * `{bot}` filled in at run time, with a kind matching KIND_PATTERN and a numeric bot id, so a
 * template these accept gives names the broker accepts. A refused name would otherwise fail every publish
 * (or, on MQTT and NATS, drop the connection every publish shares) from the first update on.
 * Each function says what is wrong with `value`, written in `name`, or returns undefined.
 */

/** Whitespace or a control character (NUL included). */
const SPACE_OR_CONTROL = /[\s\p{Cc}]/u;

/** MQTT: `+` and `#` are wildcards, valid in subscriptions only; brokers refuse control characters. */
export function mqttTopicProblem(name: string, value: string): string | undefined {
  if (value.length > MAX_MQTT_TOPIC_LENGTH) return tooLong(name, value.length, MAX_MQTT_TOPIC_LENGTH);
  const character = /[+#\p{Cc}]/u.exec(value)?.[0];
  if (character === undefined) return undefined;
  return `${name} must be an MQTT topic to publish to, without the wildcards + and # or control characters; it contains ${describeCharacter(character)}`;
}

/** NATS: whitespace ends a subject in the protocol, `*` and `>` are wildcards, tokens are non-empty. */
export function natsSubjectProblem(name: string, value: string): string | undefined {
  if (value.length > MAX_NAME_LENGTH) return tooLong(name, value.length, MAX_NAME_LENGTH);
  const rule = `${name} must be a NATS subject to publish to: tokens separated by ., without the wildcards * and >, whitespace or control characters`;
  const character = /[*>\s\p{Cc}]/u.exec(value)?.[0];
  if (character !== undefined) return `${rule}; it contains ${describeCharacter(character)}`;
  if (value.split('.').includes(''))
    return `${rule}; it has an empty token (a leading, trailing or double .)`;
  return undefined;
}

/** Redis takes any bytes as a channel; whitespace or a control character in one is a mistake. */
export function redisChannelProblem(name: string, value: string): string | undefined {
  if (value.length > MAX_NAME_LENGTH) return tooLong(name, value.length, MAX_NAME_LENGTH);
  const character = SPACE_OR_CONTROL.exec(value)?.[0];
  if (character === undefined) return undefined;
  return `${name} must be a Redis channel without whitespace or control characters; it contains ${describeCharacter(character)}`;
}

/** RabbitMQ: a name is an AMQP short string (255 bytes); whitespace or a control character is a mistake. */
export function exchangeProblem(name: string, value: string): string | undefined {
  if (value.length > MAX_EXCHANGE_BYTES) return tooLong(name, value.length, MAX_EXCHANGE_BYTES);
  const bytes = Buffer.byteLength(value);
  if (bytes > MAX_EXCHANGE_BYTES) {
    return `${name} is ${bytes} bytes long in UTF-8; the limit is ${MAX_EXCHANGE_BYTES}`;
  }
  const character = SPACE_OR_CONTROL.exec(value)?.[0];
  if (character === undefined) return undefined;
  return `${name} must be a RabbitMQ exchange name without whitespace or control characters; it contains ${describeCharacter(character)}`;
}

/** Kafka's own limit on a topic name, and what `{bot}` (a user id) and `{type}` (a kind) can grow to. */
const MAX_KAFKA_TOPIC_LENGTH = 249;
const MAX_BOT_ID_DIGITS = 16;

/**
 * Kafka: a topic name is 1–249 of `A-Z a-z 0-9 . _ -`, and neither `.` nor `..`. The template's
 * `{bot}` and `{type}` are counted at their longest: a 16-digit id, a 64-character kind.
 */
export function kafkaTopicProblem(name: string, value: string): string | undefined {
  if (value.length > MAX_KAFKA_TOPIC_LENGTH) return tooLong(name, value.length, MAX_KAFKA_TOPIC_LENGTH);
  const fixed = value.replaceAll('{bot}', '').replaceAll('{type}', '');
  const character = /[^A-Za-z0-9._-]/.exec(fixed)?.[0];
  if (character !== undefined) {
    return `${name} must be a Kafka topic: letters, digits, ., _ and - besides {bot} and {type}; it contains ${describeCharacter(character)}`;
  }
  const bots = value.split('{bot}').length - 1;
  const types = value.split('{type}').length - 1;
  const longest = fixed.length + MAX_BOT_ID_DIGITS * bots + MAX_KIND_LENGTH * types;
  if (longest > MAX_KAFKA_TOPIC_LENGTH) {
    return `${name} can grow to ${longest} characters once {bot} (up to ${MAX_BOT_ID_DIGITS} digits) and {type} (up to ${MAX_KIND_LENGTH} characters) are filled in; Kafka's limit is ${MAX_KAFKA_TOPIC_LENGTH}`;
  }
  if (value === '.' || value === '..') return `${name} cannot be . or .. (Kafka refuses both)`;
  return undefined;
}
