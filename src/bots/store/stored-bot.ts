import { plainRoutes, type BotConfig, type BotRoutes, type PlainRoutes } from '../../config/bots.js';
import { type BotCipher } from './bot-cipher.js';

/**
 * One bot of the shared store: what BOTS_FILE can say of it, resolved (the endpoint path, the
 * secret), plus who getMe said it is — so a replica starting with thousands of stored bots calls
 * getMe for none of them.
 */
export interface StoredBot {
  readonly config: BotConfig;
  readonly id: number;
  readonly username?: string;
  /**
   * The entry as it was given (BOTS_FILE's keys), without the token or the secret: what a PATCH
   * merges into. `secretGiven` says whether the secret was given or derived.
   */
  readonly entry: Readonly<Record<string, unknown>>;
  readonly secretGiven: boolean;
}

/** A record as Redis holds it (JSON): the token and the secret encrypted, everything else plain. */
interface BotRecord {
  readonly v: 1;
  readonly id: number;
  readonly username?: string;
  readonly source: string;
  readonly token: string;
  readonly secret: string;
  readonly secret_given: boolean;
  /** The webhook path; null when the path is the token itself (WEBHOOK_ENDPOINT=token). */
  readonly endpoint: string | null;
  readonly allowed_updates?: readonly string[];
  readonly redis_queue?: string;
  readonly mqtt_topic?: string;
  readonly kafka_topic?: string;
  readonly routes?: PlainRoutes;
  readonly entry: Readonly<Record<string, unknown>>;
}

/** The record's fields that are encrypted, each under its own authenticated context. */
const tokenContext = (id: number): string => `${id}:token`;
const secretContext = (id: number): string => `${id}:secret`;

/** The stored form of a bot: JSON with its token and secret encrypted. */
export function encodeBot(bot: StoredBot, cipher: BotCipher): string {
  const { config } = bot;
  const record: BotRecord = {
    v: 1,
    id: bot.id,
    username: bot.username,
    source: config.source,
    token: cipher.encrypt(config.token, tokenContext(bot.id)),
    secret: cipher.encrypt(config.secret, secretContext(bot.id)),
    secret_given: bot.secretGiven,
    endpoint: config.endpoint === config.token ? null : config.endpoint,
    allowed_updates: config.allowedUpdates,
    redis_queue: config.redisQueue,
    mqtt_topic: config.mqttTopic,
    kafka_topic: config.kafkaTopic,
    routes: plainRoutes(config.routes),
    entry: withoutSecrets(bot.entry),
  };
  return JSON.stringify(record);
}

/** A stored bot from its record; throws BotCipherError when the key does not open it. */
export function decodeBot(text: string, cipher: BotCipher): StoredBot {
  const record = JSON.parse(text) as BotRecord;
  const token = cipher.decrypt(record.token, tokenContext(record.id));
  const routes: BotRoutes | undefined = record.routes
    ? new Map(
        Object.entries(record.routes).map(
          ([t, kinds]) => [t, kinds === 'all' ? 'all' : new Set(kinds)] as const,
        ),
      )
    : undefined;
  return {
    id: record.id,
    username: record.username,
    entry: record.entry,
    secretGiven: record.secret_given,
    config: {
      // Not a position in any list: the registry gives the bot a new index of its own.
      index: 0,
      source: record.source,
      token,
      endpoint: record.endpoint ?? token,
      secret: cipher.decrypt(record.secret, secretContext(record.id)),
      allowedUpdates: record.allowed_updates,
      redisQueue: record.redis_queue,
      mqttTopic: record.mqtt_topic,
      kafkaTopic: record.kafka_topic,
      routes,
    },
  };
}

/** An entry without the keys that are kept encrypted. */
export function withoutSecrets(entry: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(entry).filter(([key]) => key !== 'token' && key !== 'secret'));
}
