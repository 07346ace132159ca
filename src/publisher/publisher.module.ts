import {
  Inject,
  Injectable,
  Logger,
  Module,
  Optional,
  type DynamicModule,
  type ModuleMetadata,
  type OnApplicationShutdown,
  type Provider,
  type Type,
} from '@nestjs/common';
import { ClientMqtt } from '@nestjs/microservices';
import { Redis } from 'ioredis';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { redactUrl } from '../common/redact.js';
import { AmqpConfirmClient } from './amqp.client.js';
import { AmqpPublisher } from './amqp.publisher.js';
import { MemoryDedupStore, RedisDedupStore, type DedupStore } from './dedup.store.js';
import { EmbeddedMqttBroker } from './embedded-mqtt-broker.js';
import { MqttPublisher, RawPayloadSerializer } from './mqtt.publisher.js';
import { NatsStreamClient } from './nats.client.js';
import { NatsPublisher } from './nats.publisher.js';
import { PublishService } from './publish.service.js';
import { DEDUP_STORE, MQTT_CLIENT, REDIS_CONNECTION } from './publisher.constants.js';
import { UPDATE_PUBLISHERS, type UpdatePublisher } from './publisher.interface.js';
import { RedisQueuePublisher, STORE_UPDATES_COMMAND } from './redis-queue.publisher.js';
import { RedisPubSubClient } from './redis-pubsub.client.js';
import { RedisPubSubPublisher } from './redis-pubsub.publisher.js';
import { validateBotRoutes } from './routing.js';
import { wildcardPattern } from './topic-template.js';

/** Options of `PublisherModule.forRoot` (passed through `AppModule.forRoot`). */
export interface PublisherModuleOptions {
  /**
   * Your own targets: Nest provider classes implementing `UpdatePublisher`, used beside the
   * built-in ones — routed to (their `types`, and BOTS_FILE `routes` by their `name`), checked at
   * `/status` and awaited before Telegram gets its 200, exactly like the built-in targets.
   */
  publishers?: Type<UpdatePublisher>[];
  /** Modules your publishers depend on. */
  imports?: ModuleMetadata['imports'];
}

const EMBEDDED_BROKER = Symbol('telegram-receiver:embedded-mqtt-broker');

/** Closes every connection this module opened, once, after the HTTP server stopped taking requests. */
@Injectable()
class ConnectionCloser implements OnApplicationShutdown {
  constructor(
    @Optional() @Inject(MQTT_CLIENT) private readonly mqtt?: ClientMqtt,
    @Optional() @Inject(REDIS_CONNECTION) private readonly redis?: Redis,
    @Optional() @Inject(EMBEDDED_BROKER) private readonly broker?: EmbeddedMqttBroker,
    @Optional() private readonly amqp?: AmqpConfirmClient,
    @Optional() private readonly nats?: NatsStreamClient,
    @Optional() private readonly redisPubSub?: RedisPubSubClient,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.mqtt?.close();
    await this.redis?.quit().catch(() => this.redis?.disconnect());
    await this.broker?.close();
    // Not registered through ClientsModule, so nothing else closes these clients.
    const logger = new Logger(ConnectionCloser.name);
    for (const [name, client] of [
      ['RabbitMQ', this.amqp],
      ['NATS', this.nats],
      ['Redis pub/sub', this.redisPubSub],
    ] as const) {
      await client?.close().catch((error: unknown) => logger.warn(`Closing ${name}: ${String(error)}`));
    }
  }
}

/**
 * How long boot waits for a broker's first connection. A broker that is down is reported at boot
 * (by the client's log and readiness 503) and connected in the background; boot goes on.
 */
const BOOT_CONNECT_WAIT_MS = 5000;

async function connectAtBoot(attempt: Promise<unknown>): Promise<void> {
  await Promise.race([
    attempt.catch(() => undefined),
    sleep(BOOT_CONNECT_WAIT_MS, undefined, { ref: false }),
  ]);
}

function amqpConnection(): Provider {
  return {
    provide: AmqpConfirmClient,
    inject: [RECEIVER_CONFIG],
    useFactory: async ({ settings }: ReceiverConfig): Promise<AmqpConfirmClient> => {
      const client = new AmqpConfirmClient({
        url: settings.AMQP_URL as string,
        exchange: settings.AMQP_EXCHANGE,
        publishTimeoutMs: settings.PUBLISH_TIMEOUT_MS,
      });
      await connectAtBoot(client.connect());
      return client;
    },
  };
}

function natsConnection(): Provider {
  return {
    provide: NatsStreamClient,
    inject: [RECEIVER_CONFIG],
    useFactory: async ({ settings }: ReceiverConfig): Promise<NatsStreamClient> => {
      const client = new NatsStreamClient({
        url: settings.NATS_URL as string,
        jetstream: settings.NATS_JETSTREAM,
        stream: settings.NATS_STREAM,
        subjects: wildcardPattern(settings.NATS_SUBJECT, '.', '*'),
        publishTimeoutMs: settings.PUBLISH_TIMEOUT_MS,
      });
      await connectAtBoot(client.connect());
      return client;
    },
  };
}

function redisPubSubConnection(): Provider {
  return {
    provide: RedisPubSubClient,
    inject: [RECEIVER_CONFIG],
    useFactory: async ({ settings }: ReceiverConfig): Promise<RedisPubSubClient> => {
      const client = new RedisPubSubClient(settings.REDIS_URL as string);
      await connectAtBoot(client.connect());
      return client;
    },
  };
}

function redisConnection(): Provider {
  return {
    provide: REDIS_CONNECTION,
    inject: [RECEIVER_CONFIG],
    useFactory: async ({ settings }: ReceiverConfig): Promise<Redis> => {
      const logger = new Logger('RedisConnection');
      const url = settings.REDIS_URL as string;
      const redis = new Redis(url, {
        lazyConnect: true,
        // No offline queue: while Redis is down a publish fails at once and Telegram gets a
        // fast 503, instead of updates piling up in memory.
        enableOfflineQueue: false,
        autoResendUnfulfilledCommands: false,
        maxRetriesPerRequest: 1,
        // Concurrent requests share one write to the socket. The queue batches updates itself.
        enableAutoPipelining: true,
        autoPipeliningIgnoredCommands: [STORE_UPDATES_COMMAND],
        connectTimeout: 5000,
        retryStrategy: (times) => Math.min(100 * times, 2000),
      });
      let reportedDown = false;
      redis.on('error', (error: Error) => {
        if (reportedDown) return;
        reportedDown = true;
        logger.error(`Redis at ${redactUrl(url)} is unavailable: ${error.message}; reconnecting`);
      });
      redis.on('ready', () => {
        if (reportedDown) logger.log(`Redis at ${redactUrl(url)} is back`);
        reportedDown = false;
      });
      // Opened eagerly so a Redis that is down at start is reported at start; the service still
      // starts (readiness stays 503) and recovers by itself once Redis answers.
      await redis.connect().catch(() => undefined);
      return redis;
    },
  };
}

function mqttConnection(): Provider {
  return {
    provide: MQTT_CLIENT,
    inject: [RECEIVER_CONFIG, { token: EMBEDDED_BROKER, optional: true }],
    useFactory: async ({ settings }: ReceiverConfig, embedded?: EmbeddedMqttBroker): Promise<ClientMqtt> => {
      const logger = new Logger('MqttConnection');
      const url = embedded ? `mqtt://127.0.0.1:${embedded.port}` : (settings.MQTT_URL as string);
      const client = new ClientMqtt({
        url,
        serializer: new RawPayloadSerializer(),
        reconnectPeriod: 1000,
        connectTimeout: 5000,
        // Nothing is queued while offline: a publish then fails fast and Telegram retries.
        queueQoSZero: false,
      });
      await client.connect().catch((error: unknown) => {
        logger.error(`MQTT broker at ${redactUrl(url)} is unavailable: ${String(error)}; reconnecting`);
      });
      return client;
    },
  };
}

/**
 * Publishers in use, in a fixed order: Redis queue, Redis pub/sub, MQTT, RabbitMQ, NATS, then
 * plug-ins — with each bot's BOTS_FILE `routes` applied.
 */
function publishersProvider(
  config: ReceiverConfig,
  builtIn: Type<UpdatePublisher>[],
  plugins: Type<UpdatePublisher>[],
): Provider {
  return {
    provide: UPDATE_PUBLISHERS,
    inject: [...builtIn, ...plugins],
    useFactory: (...publishers: UpdatePublisher[]) => {
      const names = new Set<string>();
      for (const p of publishers) {
        if (names.has(p.name)) throw new Error(`Two publishers are named "${p.name}": names must be unique`);
        names.add(p.name);
      }
      validateBotRoutes(publishers, config.bots);
      return publishers;
    },
  };
}

/**
 * Every publishing target behind one interface (`PublishService`). Which targets exist follows
 * the settings: REDIS_URL → the Redis queue (unless REDIS_QUEUE=false) and, with REDIS_PUBSUB=true,
 * Redis pub/sub; MQTT_URL → MQTT; AMQP_URL → RabbitMQ; NATS_URL → NATS; none of these and no
 * plug-in → MQTT on an embedded broker.
 */
@Module({})
export class PublisherModule {
  static forRoot(config: ReceiverConfig, options: PublisherModuleOptions = {}): DynamicModule {
    const { settings } = config;
    const plugins = options.publishers ?? [];
    const providers: Provider[] = [PublishService, ConnectionCloser, ...plugins];
    const builtIn: Type<UpdatePublisher>[] = [];

    if (settings.REDIS_URL) providers.push(redisConnection());
    // REDIS_QUEUE=false keeps Redis for dedup (and pub/sub) without the queue.
    if (settings.REDIS_URL && settings.REDIS_QUEUE) {
      providers.push(RedisQueuePublisher);
      builtIn.push(RedisQueuePublisher);
    }
    if (settings.REDIS_PUBSUB && !settings.REDIS_URL) {
      throw new Error('REDIS_PUBSUB=true publishes on the Redis of REDIS_URL: set REDIS_URL too');
    }
    if (settings.REDIS_URL && settings.REDIS_PUBSUB) {
      providers.push(redisPubSubConnection(), RedisPubSubPublisher);
      builtIn.push(RedisPubSubPublisher);
    }
    const embedded =
      !settings.REDIS_URL &&
      !settings.MQTT_URL &&
      !settings.AMQP_URL &&
      !settings.NATS_URL &&
      plugins.length === 0;
    if (embedded) {
      providers.push({
        provide: EMBEDDED_BROKER,
        useFactory: () => EmbeddedMqttBroker.start(settings.WEBHOOK_BIND, settings.MQTT_EMBEDDED_PORT),
      });
    }
    if (settings.MQTT_URL || embedded) {
      providers.push(mqttConnection(), MqttPublisher);
      builtIn.push(MqttPublisher);
    }
    if (settings.AMQP_URL) {
      providers.push(amqpConnection(), AmqpPublisher);
      builtIn.push(AmqpPublisher);
    }
    if (settings.NATS_URL) {
      providers.push(natsConnection(), NatsPublisher);
      builtIn.push(NatsPublisher);
    }
    providers.push(publishersProvider(config, builtIn, plugins), {
      provide: DEDUP_STORE,
      inject: [{ token: REDIS_CONNECTION, optional: true }],
      useFactory: (redis?: Redis): DedupStore =>
        redis
          ? new RedisDedupStore(redis, `${settings.REDIS_QUEUE_NAME}:seen:`, settings.DEDUP_TTL_SECONDS)
          : new MemoryDedupStore(settings.DEDUP_TTL_SECONDS * 1000, settings.DEDUP_MAX_ENTRIES),
    });

    return {
      module: PublisherModule,
      global: true,
      imports: options.imports ?? [],
      providers,
      exports: [
        PublishService,
        UPDATE_PUBLISHERS,
        DEDUP_STORE,
        ...(settings.REDIS_URL ? [REDIS_CONNECTION] : []),
      ],
    };
  }
}
