import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError, loadConfig } from './load-settings.js';
import { redisMode } from './redis-settings.js';

const TOKEN = '123456:AAH-secret_token_value';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ TELEGRAM_TOKEN: TOKEN, TELEGRAM_SET_WEBHOOK: 'false', ...env });
  } catch (error) {
    if (error instanceof ConfigurationError) return [...error.problems];
    throw error;
  }
  return [];
}

const SENTINELS = '10.0.0.1:26379, sentinel-2.internal:26379,[::1]:26380';

describe('Redis settings', () => {
  it('reads Sentinel and Cluster node lists into hosts and ports, once', () => {
    const sentinel = loadConfig({
      TELEGRAM_TOKEN: TOKEN,
      TELEGRAM_SET_WEBHOOK: 'false',
      REDIS_SENTINELS: SENTINELS,
      REDIS_SENTINEL_MASTER: 'mymaster',
      REDIS_PASSWORD: 'pw',
      REDIS_DB: '2',
      REDIS_WAIT_REPLICAS: '1',
    }).settings;
    expect(sentinel.REDIS_SENTINELS).toEqual([
      { host: '10.0.0.1', port: 26379, text: '10.0.0.1:26379' },
      { host: 'sentinel-2.internal', port: 26379, text: 'sentinel-2.internal:26379' },
      { host: '::1', port: 26380, text: '[::1]:26380' },
    ]);
    expect(redisMode(sentinel)).toBe('sentinel');
    expect(sentinel.REDIS_WAIT_REPLICAS).toBe(1);
    const cluster = loadConfig({
      TELEGRAM_TOKEN: TOKEN,
      TELEGRAM_SET_WEBHOOK: 'false',
      REDIS_CLUSTER_NODES: 'redis-0:6379,redis-1:6379',
      REDIS_TLS: 'true',
    }).settings;
    expect(cluster.REDIS_CLUSTER_NODES?.map((n) => n.text)).toEqual(['redis-0:6379', 'redis-1:6379']);
    expect(redisMode(cluster)).toBe('cluster');
    expect(redisMode(loadConfig({ TELEGRAM_TOKEN: TOKEN, TELEGRAM_SET_WEBHOOK: 'false' }).settings)).toBe(
      undefined,
    );
  });

  it('refuses two modes at once, naming both — or all three', () => {
    expect(problemsOf({ REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: 'a:1' })).toEqual([
      'REDIS_URL and REDIS_CLUSTER_NODES are set at once: they are exclusive, set one of them (REDIS_URL: one server, REDIS_SENTINELS: a Sentinel group, REDIS_CLUSTER_NODES: a Cluster)',
    ]);
    expect(
      problemsOf({ REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_MASTER: 'm', REDIS_CLUSTER_NODES: 'b:2' })[0],
    ).toMatch(/^REDIS_SENTINELS and REDIS_CLUSTER_NODES are set at once/);
    expect(
      problemsOf({
        REDIS_URL: 'redis://r:6379',
        REDIS_SENTINELS: 'a:1',
        REDIS_SENTINEL_MASTER: 'm',
        REDIS_CLUSTER_NODES: 'b:2',
      })[0],
    ).toMatch(/^REDIS_URL and REDIS_SENTINELS and REDIS_CLUSTER_NODES are set at once/);
  });

  it.each([
    ['redis-0', '"redis-0" is not host:port'],
    ['redis-0:', '"redis-0:" has no port between 1 and 65535'],
    ['redis-0:0', '"redis-0:0" has no port between 1 and 65535'],
    ['redis-0:70000', '"redis-0:70000" has no port between 1 and 65535'],
    ['redis://redis-0:6379', '"redis://redis-0:6379" is not host:port (no scheme: TLS is REDIS_TLS)'],
    ['::1:6379', '"::1:6379" is not host:port (write an IPv6 address as [address]:port)'],
    ['[fe80::zz]:6379', '"[fe80::zz]:6379" is not host:port (between [ ] goes an IPv6 address)'],
    ['bad host:6379', '"bad host:6379" is not host:port (the host is not a host name or IPv4 address)'],
  ])('refuses the node %s by name', (entry, reason) => {
    expect(problemsOf({ REDIS_CLUSTER_NODES: `ok-node:6379,${entry}` })).toEqual([
      `REDIS_CLUSTER_NODES must be a comma-separated list of host:port: ${reason}`,
    ]);
  });

  it('refuses an empty node list and names a long entry by its length only', () => {
    expect(problemsOf({ REDIS_SENTINELS: ' , ', REDIS_SENTINEL_MASTER: 'm' })).toEqual([
      'REDIS_SENTINELS must list at least one host:port',
    ]);
    expect(problemsOf({ REDIS_CLUSTER_NODES: `${'h'.repeat(600)}:1` })).toEqual([
      'REDIS_CLUSTER_NODES must be a comma-separated list of host:port: an entry of 602 characters is not host:port (the host is not a host name or IPv4 address)',
    ]);
  });

  it('requires the master name with REDIS_SENTINELS (an empty one is unset), and a name without spaces', () => {
    const required =
      'REDIS_SENTINEL_MASTER is required with REDIS_SENTINELS: the name the sentinels monitor the master by';
    expect(problemsOf({ REDIS_SENTINELS: SENTINELS })).toEqual([required]);
    expect(problemsOf({ REDIS_SENTINELS: SENTINELS, REDIS_SENTINEL_MASTER: '  ' })).toEqual([required]);
    expect(problemsOf({ REDIS_SENTINELS: SENTINELS, REDIS_SENTINEL_MASTER: 'my master' })).toEqual([
      'REDIS_SENTINEL_MASTER must be the name the sentinels know the master by: printable ASCII, no spaces',
    ]);
    expect(problemsOf({ REDIS_SENTINEL_MASTER: 'mymaster', REDIS_SENTINEL_PASSWORD: 's' })).toEqual([
      'REDIS_SENTINEL_MASTER is set but REDIS_SENTINELS is not',
      'REDIS_SENTINEL_PASSWORD is set but REDIS_SENTINELS is not',
    ]);
  });

  it('keeps credentials, TLS and db in REDIS_URL when that is the mode, and db off a Cluster', () => {
    expect(
      problemsOf({ REDIS_URL: 'redis://r:6379', REDIS_PASSWORD: 'pw', REDIS_TLS: 'true', REDIS_DB: '1' }),
    ).toEqual([
      'REDIS_PASSWORD does not apply with REDIS_URL: write it in the URL (rediss://user:password@host:port/db)',
      'REDIS_TLS does not apply with REDIS_URL: write it in the URL (rediss://user:password@host:port/db)',
      'REDIS_DB does not apply with REDIS_URL: write it in the URL (rediss://user:password@host:port/db)',
    ]);
    expect(problemsOf({ REDIS_USERNAME: 'app' })).toEqual([
      'REDIS_USERNAME applies to REDIS_SENTINELS or REDIS_CLUSTER_NODES, and neither is set',
    ]);
    expect(problemsOf({ REDIS_CLUSTER_NODES: 'a:1', REDIS_DB: '3' })).toEqual([
      'REDIS_DB does not apply to REDIS_CLUSTER_NODES: a Redis Cluster has database 0 only',
    ]);
  });

  it('reports every Redis problem together with the others, never a password', () => {
    const problems = problemsOf({
      REDIS_URL: 'redis://r:6379',
      REDIS_SENTINELS: 'nowhere',
      REDIS_PASSWORD: 'hunter2-secret',
      REDIS_WAIT_REPLICAS: '-1',
      WEBHOOK_PORT: 'eighty',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'WEBHOOK_PORT must be an integer',
        'REDIS_SENTINELS must be a comma-separated list of host:port: "nowhere" is not host:port',
        'REDIS_WAIT_REPLICAS must not be less than 0',
        expect.stringMatching(/^REDIS_URL and REDIS_SENTINELS are set at once/),
        expect.stringMatching(/^REDIS_SENTINEL_MASTER is required with REDIS_SENTINELS/),
      ]),
    );
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('needs a Redis queue for REDIS_WAIT_REPLICAS', () => {
    expect(problemsOf({ REDIS_WAIT_REPLICAS: '1' })).toEqual([
      'REDIS_WAIT_REPLICAS needs a Redis: REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES',
    ]);
    expect(
      problemsOf({ REDIS_URL: 'redis://r:6379', REDIS_QUEUE: 'false', REDIS_WAIT_REPLICAS: '1' }),
    ).toEqual(['REDIS_WAIT_REPLICAS applies to the Redis queue, which REDIS_QUEUE=false turns off']);
    expect(problemsOf({ REDIS_URL: 'redis://r:6379', REDIS_WAIT_REPLICAS: '101' })).toEqual([
      'REDIS_WAIT_REPLICAS must not be greater than 100',
    ]);
  });

  it('on a Cluster, refuses queue names no key can share a hash slot with', () => {
    const rule =
      'has a } but no {hash tag}, so no key can share its hash slot on Redis Cluster: rename it, or tag it ({name})';
    const file = join(mkdtempSync(join(tmpdir(), 'redis-settings-')), 'bots.json');
    writeFileSync(
      file,
      JSON.stringify([
        { token: '1:a', redis_queue: 'shop}q' },
        { token: '2:b', redis_queue: '{eu}q' },
      ]),
    );
    expect(
      problemsOf({ TELEGRAM_TOKEN: '', BOTS_FILE: file, REDIS_CLUSTER_NODES: 'a:1', REDIS_QUEUE_NAME: 'x}' }),
    ).toEqual([`REDIS_QUEUE_NAME ${rule}`, `BOTS_FILE entry 1: redis_queue ${rule}`]);
    expect(problemsOf({ REDIS_URL: 'redis://r:6379', REDIS_QUEUE_NAME: 'x}' })).toEqual([]);
  });
});
