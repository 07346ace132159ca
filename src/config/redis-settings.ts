import type { BotConfig } from './bots.js';
import type { Settings } from './settings.js';

/** Which Redis the service talks to: one server (REDIS_URL), a Sentinel group, or a Cluster. */
export type RedisMode = 'standalone' | 'sentinel' | 'cluster';

type ModeSettings = Pick<Settings, 'REDIS_URL' | 'REDIS_SENTINELS' | 'REDIS_CLUSTER_NODES'>;

/** The Redis mode the settings name, or undefined without Redis. `redisProblems` makes sure only one is set. */
export function redisMode(settings: ModeSettings): RedisMode | undefined {
  if (settings.REDIS_CLUSTER_NODES !== undefined) return 'cluster';
  if (settings.REDIS_SENTINELS !== undefined) return 'sentinel';
  if (settings.REDIS_URL !== undefined) return 'standalone';
  return undefined;
}

/**
 * The prefix that keeps a key in the Redis Cluster hash slot of `queue`, so that one script may
 * touch the queue and its dedup keys: the queue's own name when it has a hash tag (`{shop}:q`: its
 * first `{…}` decides, and a suffix keeps it), else the whole name made the tag (`{telegram_bot}`).
 * Undefined when no prefix can: a name with a `}` but no tag (`a}b`) would end any tag early.
 */
export function slotPrefix(queue: string): string | undefined {
  const open = queue.indexOf('{');
  if (open !== -1 && queue.indexOf('}', open + 1) > open + 1) return queue;
  return queue.includes('}') ? undefined : `{${queue}}`;
}

const URL_PARTS = ['REDIS_USERNAME', 'REDIS_PASSWORD', 'REDIS_TLS', 'REDIS_DB'] as const;

/**
 * What is wrong with the Redis settings taken together, each problem naming its settings: two
 * modes at once, Sentinel without its master's name, credentials that REDIS_URL carries itself,
 * queue names that cannot share a hash slot on Cluster.
 */
export function redisProblems(settings: Settings, bots: readonly BotConfig[]): string[] {
  const problems: string[] = [];
  const modes = (['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'] as const).filter(
    (name) => settings[name] !== undefined,
  );
  if (modes.length > 1) {
    problems.push(
      `${modes.join(' and ')} are set at once: they are exclusive, set one of them (REDIS_URL: one server, REDIS_SENTINELS: a Sentinel group, REDIS_CLUSTER_NODES: a Cluster)`,
    );
  }
  const mode = redisMode(settings);
  const sentinel = settings.REDIS_SENTINELS !== undefined;
  if (sentinel && settings.REDIS_SENTINEL_MASTER === undefined) {
    problems.push(
      'REDIS_SENTINEL_MASTER is required with REDIS_SENTINELS: the name the sentinels monitor the master by',
    );
  }
  for (const name of ['REDIS_SENTINEL_MASTER', 'REDIS_SENTINEL_PASSWORD'] as const) {
    if (!sentinel && settings[name] !== undefined) problems.push(`${name} is set but REDIS_SENTINELS is not`);
  }
  for (const name of URL_PARTS) {
    if (name === 'REDIS_TLS' ? !settings.REDIS_TLS : settings[name] === undefined) continue;
    if (mode === undefined) {
      problems.push(`${name} applies to REDIS_SENTINELS or REDIS_CLUSTER_NODES, and neither is set`);
    } else if (modes.length === 1 && mode === 'standalone') {
      problems.push(
        `${name} does not apply with REDIS_URL: write it in the URL (rediss://user:password@host:port/db)`,
      );
    }
  }
  if (mode === 'cluster' && settings.REDIS_DB !== undefined) {
    problems.push('REDIS_DB does not apply to REDIS_CLUSTER_NODES: a Redis Cluster has database 0 only');
  }
  if (settings.REDIS_WAIT_REPLICAS > 0) {
    if (mode === undefined) {
      problems.push('REDIS_WAIT_REPLICAS needs a Redis: REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES');
    } else if (!settings.REDIS_QUEUE) {
      problems.push('REDIS_WAIT_REPLICAS applies to the Redis queue, which REDIS_QUEUE=false turns off');
    }
  }
  if (mode === 'cluster') {
    const tagless = (queue: string | undefined): boolean =>
      queue !== undefined && slotPrefix(queue) === undefined;
    const rule =
      'has a } but no {hash tag}, so no key can share its hash slot on Redis Cluster: rename it, or tag it ({name})';
    if (tagless(settings.REDIS_QUEUE_NAME)) problems.push(`REDIS_QUEUE_NAME ${rule}`);
    for (const bot of bots) if (tagless(bot.redisQueue)) problems.push(`${bot.source}: redis_queue ${rule}`);
  }
  return problems;
}
