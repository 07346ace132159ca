import type { Cluster, Redis } from 'ioredis';

/**
 * The one Redis connection — of REDIS_URL, a Sentinel group's master, or a Cluster: the queue,
 * dedup, the replica lease and pub/sub share it.
 */
export const REDIS_CONNECTION = Symbol('telegram-receiver:redis-connection');

/**
 * What REDIS_CONNECTION holds: a `Redis` (one server, or the master a Sentinel group names, followed
 * across failovers) or a `Cluster`. Both take the same commands; `isCluster` tells them apart where
 * it matters (a script's keys must share a hash slot on a Cluster).
 */
export type RedisConnection = Redis | Cluster;
