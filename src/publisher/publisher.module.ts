import {
  Logger,
  Module,
  type DynamicModule,
  type ModuleMetadata,
  type OnApplicationShutdown,
  type Provider,
  type Type,
} from '@nestjs/common';
import { BotsModule } from '../bots/bots.module.js';
import { errorMessage } from '../common/error-message.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { redisMode } from '../config/redis-settings.js';
import type { BrokerTarget, OpenConnection } from './broker-target.js';
import { MemoryDedupStore, RedisDedupStore, type DedupStore } from './dedup.store.js';
import { PublishService } from './publish.service.js';
import { UpdateIntake } from './update-intake.service.js';
import { REDIS_CONNECTION, type RedisConnection } from '../redis/redis.constants.js';
import { DEDUP_STORE, UPDATE_PUBLISHERS } from './publisher.constants.js';
import type { UpdatePublisher } from './publisher.interface.js';
import { validateBotRoutes } from './routing.js';

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

/** What ConnectionCloser closes: a Nest `ClientProxy`, the embedded broker, Kafka's connection. */
interface Closable {
  close(): unknown;
}

/**
 * Closes the connections no Nest module closes — MQTT's client and the embedded broker, Kafka's —
 * each once, in order, after the HTTP server stopped taking requests (`onApplicationShutdown`
 * runs after it). RabbitMQ's and NATS's clients are ClientsModule's, which closes them itself.
 */
class ConnectionCloser implements OnApplicationShutdown {
  private readonly logger = new Logger(ConnectionCloser.name);

  constructor(private readonly opened: readonly (readonly [OpenConnection, Closable])[]) {}

  async onApplicationShutdown(): Promise<void> {
    for (const [{ name }, connection] of this.opened) {
      try {
        await connection.close();
      } catch (error) {
        this.logger.warn(`Closing ${name}: ${errorMessage(error)}`);
      }
    }
  }

  /** The closer of these connections, in this order. */
  static provider(connections: readonly OpenConnection[]): Provider {
    return {
      provide: ConnectionCloser,
      inject: connections.map((c) => c.token),
      useFactory: (...opened: Closable[]) =>
        new ConnectionCloser(connections.map((c, i) => [c, opened[i] as Closable] as const)),
    };
  }
}

/**
 * Publishers in use, in a fixed order: Redis queue, Redis pub/sub, MQTT, RabbitMQ, NATS, Kafka, then
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
 * the settings: a Redis (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES) → the Redis queue
 * (unless REDIS_QUEUE=false) and, with REDIS_PUBSUB=true, Redis pub/sub; MQTT_URL → MQTT;
 * AMQP_URL → RabbitMQ; NATS_URL → NATS; KAFKA_BROKERS → Kafka; none of these and no
 * plug-in → MQTT on an embedded broker. A broker's client code is imported only when it is
 * configured, hence the async `forRoot` (Nest takes the promise in `imports`).
 */
@Module({})
export class PublisherModule {
  static async forRoot(config: ReceiverConfig, options: PublisherModuleOptions = {}): Promise<DynamicModule> {
    const { settings } = config;
    const plugins = options.publishers ?? [];
    const providers: Provider[] = [PublishService, UpdateIntake, ...plugins];
    const builtIn: Type<UpdatePublisher>[] = [];
    const connections: OpenConnection[] = [];
    const targetImports: DynamicModule[] = [];
    // REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES: the one Redis connection (RedisModule).
    const redis = redisMode(settings) !== undefined;

    const embedded =
      !redis &&
      !settings.MQTT_URL &&
      !settings.AMQP_URL &&
      !settings.NATS_URL &&
      !settings.KAFKA_BROKERS &&
      plugins.length === 0;
    const targets: BrokerTarget[] = [];
    // REDIS_QUEUE=false keeps Redis for dedup (and pub/sub) without the queue. REDIS_PUBSUB=true
    // without a Redis is refused by loadSettings.
    if (redis && settings.REDIS_QUEUE)
      targets.push((await import('./targets/redis/redis-queue.target.js')).redisQueueTarget());
    if (redis && settings.REDIS_PUBSUB)
      targets.push((await import('./targets/redis/redis-pubsub.target.js')).redisPubSubTarget());
    if (settings.MQTT_URL || embedded)
      targets.push((await import('./targets/mqtt/mqtt.target.js')).mqttTarget(embedded));
    if (settings.AMQP_URL) targets.push((await import('./targets/amqp/amqp.target.js')).amqpTarget());
    if (settings.NATS_URL) targets.push((await import('./targets/nats/nats.target.js')).natsTarget());
    if (settings.KAFKA_BROKERS) targets.push((await import('./targets/kafka/kafka.target.js')).kafkaTarget());
    for (const target of targets) {
      targetImports.push(...target.imports);
      providers.push(...target.providers);
      builtIn.push(target.publisher);
      connections.push(...target.connections);
    }
    providers.push(ConnectionCloser.provider(connections));
    providers.push(publishersProvider(config, builtIn, plugins), {
      provide: DEDUP_STORE,
      inject: [{ token: REDIS_CONNECTION, optional: true }],
      useFactory: (connection?: RedisConnection): DedupStore =>
        connection
          ? new RedisDedupStore(connection, `${settings.REDIS_QUEUE_NAME}:seen:`, settings.DEDUP_TTL_SECONDS)
          : new MemoryDedupStore(settings.DEDUP_TTL_SECONDS * 1000, settings.DEDUP_MAX_ENTRIES),
    });

    return {
      module: PublisherModule,
      global: true,
      // Kafka checks each bot's topic at start: it needs the ids getMe gave (BotRegistry).
      imports: [
        ...targetImports,
        ...(options.imports ?? []),
        ...(settings.KAFKA_BROKERS ? [BotsModule] : []),
      ],
      providers,
      exports: [PublishService, UpdateIntake, UPDATE_PUBLISHERS, DEDUP_STORE],
    };
  }
}
