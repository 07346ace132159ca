import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
} from './class-validator.js';
import type { Cidr } from '../common/cidr.js';
import type { HostPort } from './host-port.js';
import {
  IsCidrList,
  IsHostPortList,
  IsUpdateTypeList,
  IsUrlWithScheme,
  MaxChars,
  Satisfies,
} from './validators.js';
import {
  exchangeProblem,
  kafkaTopicProblem,
  mqttTopicProblem,
  natsSubjectProblem,
  redisChannelProblem,
} from './broker-names.js';
import { endpointProblem } from './endpoint.js';
import { encryptionKeyProblem } from './store-settings.js';
import { MAX_NAME_LENGTH, MAX_PATH_LENGTH, MAX_STREAM_NAME_LENGTH, MAX_TOKEN_LENGTH } from './limits.js';

// A value too long to be a number or a boolean is left as it is, unread, for the type check to refuse.
const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && value.length <= 32 && /^-?\d+$/.test(value.trim())
    ? Number(value.trim())
    : value;

const toBool = ({ value }: { value: unknown }): unknown => {
  if (typeof value !== 'string' || value.length > 16) return value;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  return value;
};

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const KAFKA_SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

export const SECRET_PATTERN = /^[A-Za-z0-9_-]{1,256}$/;
export const TOKEN_PATTERN = /^\d+:[A-Za-z0-9_-]+$/;
/** The admin API's bearer token: long, and of the alphabet the log scrubber finds. */
export const ADMIN_TOKEN_PATTERN = /^[A-Za-z0-9_-]{32,256}$/;
/** host or host:port — no scheme, no path. */
const DOMAIN_PATTERN =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;

/**
 * Every setting of the service, typed. Built once at boot from the environment (and `.env`) by
 * `loadSettings`; field names are the public contract — they are the environment variable names.
 */
export class Settings {
  @MaxChars(MAX_PATH_LENGTH)
  @IsString()
  ENV_FILE = '.env';

  @ValidateIf(
    (s: Settings) =>
      (s.TELEGRAM_SET_WEBHOOK && s.TELEGRAM_MODE === 'webhook') || s.WEBHOOK_DOMAIN !== undefined,
  )
  @Matches(DOMAIN_PATTERN, {
    message: 'WEBHOOK_DOMAIN must be a public host name, optionally with :port, without scheme or path',
  })
  @MaxChars(MAX_NAME_LENGTH)
  @IsString({
    message: 'WEBHOOK_DOMAIN is required to register the webhook (or set TELEGRAM_SET_WEBHOOK=false)',
  })
  WEBHOOK_DOMAIN?: string;

  @Satisfies('isWebhookEndpoint', endpointProblem)
  @MinLength(1)
  @IsString()
  WEBHOOK_ENDPOINT = 'hash';

  @IsOptional()
  @Matches(SECRET_PATTERN, { message: 'WEBHOOK_SECRET must be 1–256 characters of A-Z a-z 0-9 _ -' })
  WEBHOOK_SECRET?: string;

  @MaxChars(MAX_NAME_LENGTH)
  @IsString()
  WEBHOOK_BIND = '0.0.0.0';

  @Transform(toInt)
  @Max(65535)
  @Min(0)
  @IsInt({ message: 'WEBHOOK_PORT must be an integer' })
  WEBHOOK_PORT = 8000;

  @Transform(toBool)
  @IsBoolean({ message: 'WEBHOOK_STATUS_ENDPOINT must be true or false' })
  WEBHOOK_STATUS_ENDPOINT = true;

  /** A second, internal listener for `/status`, `/status/live` and `/metrics` (then gone from WEBHOOK_PORT). */
  @IsOptional()
  @Transform(toInt)
  @Max(65535)
  @Min(1)
  @IsInt({ message: 'OPS_PORT must be an integer from 1 to 65535' })
  OPS_PORT?: number;

  // — The admin API (README "Adding bots at runtime") —

  /** The admin API's own listener (bots added and removed while running); off when unset. */
  @IsOptional()
  @Transform(toInt)
  @Max(65535)
  @Min(1)
  @IsInt({ message: 'ADMIN_PORT must be an integer from 1 to 65535' })
  ADMIN_PORT?: number;

  @MaxChars(MAX_NAME_LENGTH)
  @IsString()
  ADMIN_BIND = '127.0.0.1';

  @ValidateIf((s: Settings) => s.ADMIN_PORT !== undefined || s.ADMIN_TOKEN !== undefined)
  @Matches(ADMIN_TOKEN_PATTERN, {
    message: 'ADMIN_TOKEN must be 32–256 characters of A-Z a-z 0-9 _ - (e.g. openssl rand -hex 32)',
  })
  @MaxChars(MAX_PATH_LENGTH)
  @IsString({ message: 'ADMIN_TOKEN is required with ADMIN_PORT: the bearer token the admin API takes' })
  ADMIN_TOKEN?: string;

  // — The shared bot store (README "Adding bots at runtime") —

  /** Where bots added at runtime live: `none` (this process only) or `redis` (shared by every replica). */
  @IsIn(['none', 'redis'], { message: 'BOTS_STORE must be none or redis' })
  BOTS_STORE: 'none' | 'redis' = 'none';

  /** AES-256-GCM key of the stored bots' tokens and secrets: 32 bytes in base64. */
  @ValidateIf((s: Settings) => s.BOTS_STORE === 'redis' || s.BOTS_ENCRYPTION_KEY !== undefined)
  @Satisfies('isEncryptionKey', encryptionKeyProblem)
  @MaxChars(MAX_NAME_LENGTH)
  @IsString({
    message:
      'BOTS_ENCRYPTION_KEY is required with BOTS_STORE=redis: 32 random bytes in base64 (openssl rand -base64 32)',
  })
  BOTS_ENCRYPTION_KEY?: string;

  @IsCidrList('WEBHOOK_LIMIT_SUBNETS')
  WEBHOOK_LIMIT_SUBNETS: Cidr[] = [];

  @IsCidrList('WEBHOOK_TRUSTED_PROXIES')
  WEBHOOK_TRUSTED_PROXIES: Cidr[] = [];

  @Transform(toInt)
  @Max(100)
  @Min(1)
  @IsInt({ message: 'WEBHOOK_MAX_CONNECTIONS must be an integer' })
  WEBHOOK_MAX_CONNECTIONS = 40;

  // — Limits of the webhook listener (see README "Security") —

  @Transform(toInt)
  @Max(600_000)
  @Min(100)
  @IsInt({ message: 'WEBHOOK_HEADERS_TIMEOUT_MS must be an integer' })
  WEBHOOK_HEADERS_TIMEOUT_MS = 10_000;

  @Transform(toInt)
  @Max(600_000)
  @Min(100)
  @IsInt({ message: 'WEBHOOK_BODY_TIMEOUT_MS must be an integer' })
  WEBHOOK_BODY_TIMEOUT_MS = 10_000;

  @Transform(toInt)
  @Max(3_600_000)
  @Min(100)
  @IsInt({ message: 'WEBHOOK_KEEPALIVE_TIMEOUT_MS must be an integer' })
  WEBHOOK_KEEPALIVE_TIMEOUT_MS = 72_000;

  @Transform(toInt)
  @Max(1_000_000)
  @Min(1)
  @IsInt({ message: 'WEBHOOK_MAX_SOCKETS must be an integer' })
  WEBHOOK_MAX_SOCKETS = 10_000;

  @IsOptional()
  @IsUpdateTypeList('WEBHOOK_ALLOWED_UPDATES')
  WEBHOOK_ALLOWED_UPDATES?: string[];

  @Transform(toBool)
  @IsBoolean({ message: 'WEBHOOK_DROP_PENDING_UPDATES must be true or false' })
  WEBHOOK_DROP_PENDING_UPDATES = false;

  @IsOptional()
  @Matches(/^(?:\d{1,3}\.){3}\d{1,3}$/, { message: 'WEBHOOK_IP_ADDRESS must be an IPv4 address' })
  WEBHOOK_IP_ADDRESS?: string;

  @ValidateIf(
    (s: Settings) =>
      (s.BOTS_FILE === undefined && s.BOTS_STORE !== 'redis') || s.TELEGRAM_TOKEN !== undefined,
  )
  @Matches(TOKEN_PATTERN, {
    message: 'TELEGRAM_TOKEN does not look like a bot token (<digits>:<characters>)',
  })
  @MaxChars(MAX_TOKEN_LENGTH)
  @IsString({
    message: 'TELEGRAM_TOKEN is required (or list bots in BOTS_FILE, or keep them in BOTS_STORE=redis)',
  })
  TELEGRAM_TOKEN?: string;

  @IsOptional()
  @MaxChars(MAX_PATH_LENGTH)
  @IsString()
  BOTS_FILE?: string;

  @IsUrlWithScheme(['http:', 'https:'])
  TELEGRAM_API_URL = 'https://api.telegram.org';

  @Transform(toBool)
  @IsBoolean({ message: 'TELEGRAM_SET_WEBHOOK must be true or false' })
  TELEGRAM_SET_WEBHOOK = true;

  @Transform(toBool)
  @IsBoolean({ message: 'TELEGRAM_DELETE_WEBHOOK must be true or false' })
  TELEGRAM_DELETE_WEBHOOK = true;

  @Transform(toInt)
  @Min(0)
  @IsInt({ message: 'TELEGRAM_RETRY_TIMEOUT_MS must be an integer' })
  TELEGRAM_RETRY_TIMEOUT_MS = 30_000;

  @IsOptional()
  @IsUrlWithScheme(['redis:', 'rediss:'])
  REDIS_URL?: string;

  // — Redis Sentinel and Cluster (README "Redis in production"): one of REDIS_URL, REDIS_SENTINELS
  // and REDIS_CLUSTER_NODES; the credentials, TLS and database below take the URL's place in the other two —

  @IsOptional()
  @IsHostPortList('REDIS_SENTINELS')
  REDIS_SENTINELS?: HostPort[];

  @IsOptional()
  @Matches(/^[\x21-\x7e]+$/, {
    message:
      'REDIS_SENTINEL_MASTER must be the name the sentinels know the master by: printable ASCII, no spaces',
  })
  @MaxChars(MAX_NAME_LENGTH)
  @IsString()
  REDIS_SENTINEL_MASTER?: string;

  @IsOptional()
  @IsHostPortList('REDIS_CLUSTER_NODES')
  REDIS_CLUSTER_NODES?: HostPort[];

  @IsOptional()
  @MaxChars(MAX_NAME_LENGTH)
  @IsString()
  REDIS_USERNAME?: string;

  @IsOptional()
  @MaxChars(MAX_NAME_LENGTH)
  @IsString()
  REDIS_PASSWORD?: string;

  @IsOptional()
  @MaxChars(MAX_NAME_LENGTH)
  @IsString()
  REDIS_SENTINEL_PASSWORD?: string;

  @Transform(toBool)
  @IsBoolean({ message: 'REDIS_TLS must be true or false' })
  REDIS_TLS = false;

  @IsOptional()
  @Transform(toInt)
  @Max(65535)
  @Min(0)
  @IsInt({ message: 'REDIS_DB must be an integer' })
  REDIS_DB?: number;

  /** Replicas that must hold a batch of the Redis queue (WAIT) before its updates are answered 200. */
  @Transform(toInt)
  @Max(100)
  @Min(0)
  @IsInt({ message: 'REDIS_WAIT_REPLICAS must be an integer' })
  REDIS_WAIT_REPLICAS = 0;

  @Transform(toBool)
  @IsBoolean({ message: 'REDIS_QUEUE must be true or false' })
  REDIS_QUEUE = true;

  @MaxChars(MAX_NAME_LENGTH)
  @MinLength(1)
  @IsString()
  REDIS_QUEUE_NAME = 'telegram_bot';

  @IsIn(['list', 'stream'], { message: 'REDIS_QUEUE_MODE must be list or stream' })
  REDIS_QUEUE_MODE: 'list' | 'stream' = 'list';

  @IsOptional()
  @IsUrlWithScheme(['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'ssl:'])
  MQTT_URL?: string;

  @Satisfies('isMqttTopic', mqttTopicProblem)
  @MinLength(1)
  @IsString()
  MQTT_TOPIC = 'telegram/{bot}/{type}';

  @Transform(toInt)
  @Max(65535)
  @Min(0)
  @IsInt({ message: 'MQTT_EMBEDDED_PORT must be an integer' })
  MQTT_EMBEDDED_PORT = 1883;

  @Transform(toInt)
  @Max(60_000)
  @Min(1)
  @IsInt({ message: 'PUBLISH_TIMEOUT_MS must be an integer' })
  PUBLISH_TIMEOUT_MS = 5000;

  @Transform(toInt)
  @Min(0)
  @IsInt({ message: 'DEDUP_TTL_SECONDS must be an integer' })
  DEDUP_TTL_SECONDS = 86_400;

  @Transform(toInt)
  @Min(1)
  @IsInt({ message: 'DEDUP_MAX_ENTRIES must be an integer' })
  DEDUP_MAX_ENTRIES = 1_000_000;

  @Transform(toInt)
  @Min(0)
  @IsInt({ message: 'SHUTDOWN_TIMEOUT_MS must be an integer' })
  SHUTDOWN_TIMEOUT_MS = 10_000;

  // — Webhook registration across replicas (Kubernetes) —

  @Transform(toBool)
  @IsBoolean({ message: 'WEBHOOK_FORCE_SET must be true or false' })
  WEBHOOK_FORCE_SET = false;

  @Transform(toInt)
  @Min(0)
  @IsInt({ message: 'WEBHOOK_RECONCILE_SECONDS must be an integer' })
  WEBHOOK_RECONCILE_SECONDS = 300;

  @Transform(toBool)
  @IsBoolean({ message: 'METRICS_ENABLED must be true or false' })
  METRICS_ENABLED = true;

  /** Unset: decided by how many bots are served, and again whenever that changes (see MetricsService). */
  @IsOptional()
  @Transform(toBool)
  @IsBoolean({ message: 'METRICS_PER_BOT must be true or false (or unset: per-bot series below 1,000 bots)' })
  METRICS_PER_BOT?: boolean;

  // — More targets, routing and payload format —

  @IsIn(['raw', 'envelope'], { message: 'PUBLISH_FORMAT must be raw or envelope' })
  PUBLISH_FORMAT: 'raw' | 'envelope' = 'raw';

  @IsOptional()
  @IsUpdateTypeList('REDIS_TYPES')
  REDIS_TYPES?: string[];

  @Transform(toBool)
  @IsBoolean({ message: 'REDIS_PUBSUB must be true or false' })
  REDIS_PUBSUB = false;

  @Satisfies('isRedisChannel', redisChannelProblem)
  @MinLength(1)
  @IsString()
  REDIS_PUBSUB_CHANNEL = 'telegram.{bot}.{type}';

  @IsOptional()
  @IsUpdateTypeList('REDIS_PUBSUB_TYPES')
  REDIS_PUBSUB_TYPES?: string[];

  @IsOptional()
  @IsUpdateTypeList('MQTT_TYPES')
  MQTT_TYPES?: string[];

  @IsOptional()
  @IsUrlWithScheme(['amqp:', 'amqps:'])
  AMQP_URL?: string;

  @Satisfies('isExchangeName', exchangeProblem)
  @MinLength(1)
  @IsString()
  AMQP_EXCHANGE = 'telegram';

  @IsOptional()
  @IsUpdateTypeList('AMQP_TYPES')
  AMQP_TYPES?: string[];

  @IsOptional()
  @IsUrlWithScheme(['nats:', 'tls:'])
  NATS_URL?: string;

  @Satisfies('isNatsSubject', natsSubjectProblem)
  @MinLength(1)
  @IsString()
  NATS_SUBJECT = 'telegram.{bot}.{type}';

  @Transform(toBool)
  @IsBoolean({ message: 'NATS_JETSTREAM must be true or false' })
  NATS_JETSTREAM = true;

  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'NATS_STREAM must be letters, digits, _ or -' })
  @MaxChars(MAX_STREAM_NAME_LENGTH)
  NATS_STREAM = 'telegram';

  @IsOptional()
  @IsUpdateTypeList('NATS_TYPES')
  NATS_TYPES?: string[];

  // — Kafka (README "Kafka") —

  @IsOptional()
  @IsHostPortList('KAFKA_BROKERS')
  KAFKA_BROKERS?: HostPort[];

  @Satisfies('isKafkaTopic', kafkaTopicProblem)
  @MinLength(1)
  @IsString()
  KAFKA_TOPIC = 'telegram.{bot}';

  @IsOptional()
  @IsUpdateTypeList('KAFKA_TYPES')
  KAFKA_TYPES?: string[];

  @Matches(/^[A-Za-z0-9._-]+$/, { message: 'KAFKA_CLIENT_ID must be letters, digits, ., _ or -' })
  @MaxChars(MAX_STREAM_NAME_LENGTH)
  @IsString()
  KAFKA_CLIENT_ID = 'telegram-receiver';

  @IsOptional()
  @IsIn(KAFKA_SASL_MECHANISMS, {
    message: `KAFKA_SASL_MECHANISM must be one of ${KAFKA_SASL_MECHANISMS.join(', ')}`,
  })
  KAFKA_SASL_MECHANISM?: KafkaSaslMechanism;

  @IsOptional()
  @MaxChars(MAX_NAME_LENGTH)
  @IsString()
  KAFKA_SASL_USERNAME?: string;

  @IsOptional()
  @MaxChars(MAX_NAME_LENGTH)
  @IsString()
  KAFKA_SASL_PASSWORD?: string;

  @Transform(toBool)
  @IsBoolean({ message: 'KAFKA_TLS must be true or false' })
  KAFKA_TLS = false;

  @IsOptional()
  @MaxChars(MAX_PATH_LENGTH)
  @IsString()
  KAFKA_TLS_CA?: string;

  // — Operator tools: TLS, ngrok, polling —

  @IsIn(['webhook', 'polling'], { message: 'TELEGRAM_MODE must be webhook or polling' })
  TELEGRAM_MODE: 'webhook' | 'polling' = 'webhook';

  @Transform(toBool)
  @IsBoolean({ message: 'POLLING_DELETE_WEBHOOK must be true or false' })
  POLLING_DELETE_WEBHOOK = false;

  @IsOptional()
  @MaxChars(MAX_PATH_LENGTH)
  @IsString()
  WEBHOOK_CERT?: string;

  @IsOptional()
  @MaxChars(MAX_PATH_LENGTH)
  @IsString()
  WEBHOOK_KEY?: string;

  @IsUrlWithScheme(['http:', 'https:'])
  NGROK_API_URL = 'http://127.0.0.1:4040/api/tunnels';

  @IsIn(LOG_LEVELS, { message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: LogLevel = 'info';
}

/** Names of settings whose values are secret: never printed, not even in validation errors. */
export const SECRET_SETTINGS: ReadonlySet<string> = new Set([
  'TELEGRAM_TOKEN',
  'WEBHOOK_SECRET',
  'ADMIN_TOKEN',
  'BOTS_ENCRYPTION_KEY',
  'REDIS_PASSWORD',
  'REDIS_SENTINEL_PASSWORD',
  'KAFKA_SASL_PASSWORD',
]);
