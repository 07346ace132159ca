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
import { redactUrl } from '../common/redact.js';
import { MemoryDedupStore, RedisDedupStore, type DedupStore } from './dedup.store.js';
import { EmbeddedMqttBroker } from './embedded-mqtt-broker.js';
import { MqttPublisher, RawPayloadSerializer } from './mqtt.publisher.js';
import { PublishService } from './publish.service.js';
import { DEDUP_STORE, MQTT_CLIENT, REDIS_CONNECTION } from './publisher.constants.js';
import { UPDATE_PUBLISHERS, type UpdatePublisher } from './publisher.interface.js';
import { RedisQueuePublisher } from './redis-queue.publisher.js';

export interface PublisherModuleOptions {
  /** Your own targets: Nest providers implementing `UpdatePublisher`, used beside the built-in ones. */
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
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.mqtt?.close();
    await this.redis?.quit().catch(() => this.redis?.disconnect());
    await this.broker?.close();
  }
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
        // Concurrent requests share one write to the socket.
        enableAutoPipelining: true,
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

/** Publishers in use, in a fixed order: Redis queue, MQTT, then plug-ins. */
function publishersProvider(builtIn: Type<UpdatePublisher>[], plugins: Type<UpdatePublisher>[]): Provider {
  return {
    provide: UPDATE_PUBLISHERS,
    inject: [...builtIn, ...plugins],
    useFactory: (...publishers: UpdatePublisher[]) => {
      const names = new Set<string>();
      for (const p of publishers) {
        if (names.has(p.name)) throw new Error(`Two publishers are named "${p.name}": names must be unique`);
        names.add(p.name);
      }
      return publishers;
    },
  };
}

/**
 * Every publishing target behind one interface (`PublishService`). Which targets exist follows
 * the settings: REDIS_URL → the Redis queue, MQTT_URL → MQTT, neither → MQTT on an embedded broker.
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
    const embedded = !settings.REDIS_URL && !settings.MQTT_URL && plugins.length === 0;
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
    providers.push(publishersProvider(builtIn, plugins), {
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
      exports: [PublishService, UPDATE_PUBLISHERS, DEDUP_STORE],
    };
  }
}
