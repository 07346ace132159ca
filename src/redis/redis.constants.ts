/** The one ioredis connection (REDIS_URL): queue, dedup, replica lease and pub/sub share it. */
export const REDIS_CONNECTION = Symbol('telegram-receiver:redis-connection');
