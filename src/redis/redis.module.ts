import {
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { redisMode } from '../config/redis-settings.js';
import type { Settings } from '../config/settings.js';
import { REDIS_CONNECTION, type RedisConnection } from './redis.constants.js';
import { RedisState, type RedisDescription } from './redis-state.js';

/** The ioredis command the Redis queue's batch script runs as: it bypasses auto-pipelining. */
export const STORE_UPDATES_COMMAND = 'storeUpdates';

type RedisSettings = Pick<
  Settings,
  | 'REDIS_URL'
  | 'REDIS_SENTINELS'
  | 'REDIS_SENTINEL_MASTER'
  | 'REDIS_SENTINEL_PASSWORD'
  | 'REDIS_CLUSTER_NODES'
  | 'REDIS_USERNAME'
  | 'REDIS_PASSWORD'
  | 'REDIS_TLS'
  | 'REDIS_DB'
>;

/** What every connection does the same way, whatever the mode. */
const COMMON: RedisOptions = {
  // No offline queue: while Redis is down a publish fails at once and Telegram gets a fast 503,
  // instead of updates piling up in memory.
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 1,
  // Concurrent requests share one write to the socket. The queue batches updates itself.
  enableAutoPipelining: true,
  autoPipeliningIgnoredCommands: [STORE_UPDATES_COMMAND],
  connectTimeout: 5000,
};

const retryStrategy = (times: number): number => Math.min(100 * times, 2000);

function describe(settings: RedisSettings): RedisDescription | undefined {
  switch (redisMode(settings)) {
    case 'standalone':
      return { mode: 'standalone', url: settings.REDIS_URL as string };
    case 'sentinel':
      return {
        mode: 'sentinel',
        master: settings.REDIS_SENTINEL_MASTER as string,
        sentinels: settings.REDIS_SENTINELS ?? [],
      };
    case 'cluster':
      return { mode: 'cluster', seeds: settings.REDIS_CLUSTER_NODES ?? [] };
    case undefined:
      return undefined;
  }
}

/** Opens the connection the settings name, without waiting for it to be ready. */
function open(settings: RedisSettings, description: RedisDescription): RedisConnection {
  const tls = settings.REDIS_TLS ? {} : undefined;
  const credentials = { username: settings.REDIS_USERNAME, password: settings.REDIS_PASSWORD };
  switch (description.mode) {
    case 'standalone':
      return new Redis(description.url, { ...COMMON, lazyConnect: true, retryStrategy });
    case 'sentinel':
      return new Redis({
        ...COMMON,
        ...credentials,
        lazyConnect: true,
        retryStrategy,
        sentinels: description.sentinels.map(({ host, port }) => ({ host, port })),
        name: description.master,
        db: settings.REDIS_DB ?? 0,
        sentinelPassword: settings.REDIS_SENTINEL_PASSWORD,
        tls,
        sentinelTLS: tls,
        enableTLSForSentinelMode: tls !== undefined,
        sentinelRetryStrategy: retryStrategy,
        // Subscribed to the sentinels' +switch-master: a promoted master is followed at once, not
        // only when the old one's socket breaks (a partition may leave it open).
        failoverDetector: true,
        // A master demoted under us answers writes with READONLY: ask the sentinels again.
        reconnectOnError: (error) => error.message.startsWith('READONLY'),
      });
    case 'cluster':
      return new Cluster(
        description.seeds.map(({ host, port }) => ({ host, port })),
        {
          lazyConnect: true,
          enableOfflineQueue: false,
          enableAutoPipelining: true,
          autoPipeliningIgnoredCommands: [STORE_UPDATES_COMMAND],
          // Writes go to masters only: a replica's copy may be behind.
          scaleReads: 'master',
          clusterRetryStrategy: retryStrategy,
          slotsRefreshTimeout: 2000,
          redisOptions: {
            ...credentials,
            tls,
            connectTimeout: COMMON.connectTimeout,
            maxRetriesPerRequest: COMMON.maxRetriesPerRequest,
            autoResendUnfulfilledCommands: false,
          },
        },
      );
  }
}

function providers(settings: RedisSettings, description: RedisDescription): Provider[] {
  return [
    {
      provide: RedisState,
      useFactory: async (): Promise<RedisState> => {
        const state = new RedisState(open(settings, description), description);
        // Opened eagerly so a Redis that is down at start is reported at start; the service still
        // starts (readiness stays 503) and recovers by itself once Redis answers.
        await state.connection.connect().catch(() => undefined);
        return state;
      },
    },
    { provide: REDIS_CONNECTION, inject: [RedisState], useFactory: (state: RedisState) => state.connection },
    RedisCloser,
  ];
}

/** Closes the connection once, after the HTTP server stopped taking requests. */
class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CONNECTION) private readonly redis: RedisConnection) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
    // quit() ends the connection to Redis but not, in Sentinel mode, ioredis's subscriptions to
    // every sentinel (failoverDetector), which kept a process that closed the app from exiting:
    // disconnect() closes those too, and anything quit() could not.
    this.redis.disconnect();
  }
}

/**
 * The Redis connection the settings name — REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES — as
 * its own module: whoever needs it (the queue, dedup, the replica lease, pub/sub) injects
 * REDIS_CONNECTION, and RedisState for its health — optionally, since without Redis there is
 * none. Global, like the configuration it is made from, and imported once by AppModule.
 */
@Module({})
export class RedisModule {
  static forRoot(settings: RedisSettings): DynamicModule {
    const description = describe(settings);
    return {
      module: RedisModule,
      global: true,
      providers: description ? providers(settings, description) : [],
      exports: description ? [REDIS_CONNECTION, RedisState] : [],
    };
  }
}
