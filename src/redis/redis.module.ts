import {
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { Redis } from 'ioredis';
import { redactUrl } from '../common/redact.js';
import type { Settings } from '../config/settings.js';
import { REDIS_CONNECTION } from './redis.constants.js';

/** The ioredis command the Redis queue's batch script runs as: it bypasses auto-pipelining. */
export const STORE_UPDATES_COMMAND = 'storeUpdates';

function connection(url: string): Provider {
  return {
    provide: REDIS_CONNECTION,
    useFactory: async (): Promise<Redis> => {
      const logger = new Logger('RedisConnection');
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

/** Closes the connection once, after the HTTP server stopped taking requests. */
class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CONNECTION) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/**
 * The Redis connection of REDIS_URL, as its own module: whoever needs it (the queue, dedup, the
 * replica lease, pub/sub) injects REDIS_CONNECTION — optionally, since without REDIS_URL there is
 * none. Global, like the configuration it is made from, and imported once by AppModule.
 */
@Module({})
export class RedisModule {
  static forRoot(settings: Pick<Settings, 'REDIS_URL'>): DynamicModule {
    const providers = settings.REDIS_URL ? [connection(settings.REDIS_URL), RedisCloser] : [];
    return {
      module: RedisModule,
      global: true,
      providers,
      exports: settings.REDIS_URL ? [REDIS_CONNECTION] : [],
    };
  }
}
