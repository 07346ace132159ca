import { Logger } from '@nestjs/common';
import { Cluster, type Redis } from 'ioredis';
import { errorMessage } from '../common/error-message.js';
import { redactUrl } from '../common/redact.js';
import type { HostPort } from '../config/host-port.js';
import type { RedisMode } from '../config/redis-settings.js';
import type { RedisConnection } from './redis.constants.js';

/** Cluster: how often a node that dropped out while serving slots is tried again, at most. */
const PROBE_INTERVAL_MS = 1000;

/** How a Redis target answers `/status`: up, or down with a reason naming the mode and the node. */
export interface RedisHealth {
  readonly up: boolean;
  readonly reason?: string;
}

/** Which Redis the settings name, as logs and `/status` show it (never a password). */
export type RedisDescription =
  | { readonly mode: 'standalone'; readonly url: string }
  | { readonly mode: 'sentinel'; readonly master: string; readonly sentinels: readonly HostPort[] }
  | { readonly mode: 'cluster'; readonly seeds: readonly HostPort[] };

/**
 * The connection's state as its events tell it: which node is down and why, logged once per
 * outage, and readiness that names the mode and the node — the Sentinel group's master at its last
 * known address, the Cluster node that serves slots and does not answer.
 */
export class RedisState {
  private readonly logger = new Logger('RedisConnection');
  /** Sentinel: where the master was last reached. */
  private masterAddress?: string;
  /** Cluster: nodes whose connection failed and has not been ready since, with the error. */
  private readonly downNodes = new Map<string, string>();
  /** Cluster: when a dropped node was last put back to be probed. */
  private readonly probedAt = new Map<string, number>();
  private reportedDown = false;

  constructor(
    readonly connection: RedisConnection,
    readonly description: RedisDescription,
  ) {
    if (connection instanceof Cluster) this.watchCluster(connection);
    else this.watchServer(connection);
  }

  get mode(): RedisMode {
    return this.description.mode;
  }

  /** `redis at 127.0.0.1:6379`, `redis sentinel master mymaster`, `redis cluster (seeds a:1,b:2)`. */
  get name(): string {
    const d = this.description;
    switch (d.mode) {
      case 'standalone':
        return `redis at ${redactUrl(d.url).replace(/^rediss?:\/\//, '')}`;
      case 'sentinel':
        return `redis sentinel master ${d.master}`;
      case 'cluster':
        return `redis cluster (seeds ${d.seeds.map((s) => s.text).join(',')})`;
    }
  }

  health(): RedisHealth {
    const status = this.connection.status;
    if (status !== 'ready') {
      const where =
        this.mode === 'sentinel'
          ? ` (master last at ${this.masterAddress ?? 'none yet'}; sentinels ${this.sentinelList()})`
          : '';
      return { up: false, reason: `${this.name}${where}: connection is ${status}` };
    }
    if (this.connection instanceof Cluster && this.downNodes.size > 0) {
      const down = servingMasters(this.connection).filter((key) => this.downNodes.has(key));
      if (down.length > 0) {
        const first = down[0] as string;
        const more = down.length > 1 ? ` (and ${down.slice(1).join(', ')})` : '';
        return {
          up: false,
          reason: `redis cluster node ${first}${more} serving slots is down: ${this.downNodes.get(first)}`,
        };
      }
    }
    return { up: true };
  }

  private sentinelList(): string {
    return this.description.mode === 'sentinel'
      ? this.description.sentinels.map((s) => s.text).join(',')
      : '';
  }

  /** An outage is logged once, when it begins, and once when it ends. */
  private down(error: Error): void {
    if (this.reportedDown) return;
    this.reportedDown = true;
    this.logger.error(`${this.name} is unavailable: ${error.message}; reconnecting`);
  }

  private back(): void {
    if (this.reportedDown) this.logger.log(`${this.name} is back`);
    this.reportedDown = false;
  }

  private watchServer(redis: Redis): void {
    redis.on('error', (error: Error) => this.down(error));
    redis.on('ready', () => {
      const stream = redis.stream as { remoteAddress?: string; remotePort?: number } | undefined;
      const address = stream?.remoteAddress ? `${stream.remoteAddress}:${stream.remotePort}` : undefined;
      if (this.mode === 'sentinel' && address !== undefined && address !== this.masterAddress) {
        // The first address, or a failover: the sentinels now name another master.
        if (this.masterAddress !== undefined) this.logger.warn(`${this.name} is now at ${address}`);
        this.masterAddress = address;
      }
      this.back();
    });
  }

  private watchCluster(cluster: Cluster): void {
    cluster.on('error', (error: Error) => this.down(error));
    cluster.on('ready', () => this.back());
    cluster.on('node error', (error: unknown, key: string) => this.nodeDown(key, errorMessage(error)));
    cluster.on('+node', (node: Redis) => {
      const key = nodeKey(node);
      node.on('ready', () => {
        if (this.downNodes.delete(key)) this.logger.log(`redis cluster node ${key} is back`);
      });
      // A node that went away and is still in the slot map: connect at once to learn whether it
      // answers (ready clears it; an error names why), rather than at the next command for its slots.
      if (this.downNodes.has(key)) node.ping().catch(() => undefined);
    });
    cluster.on('-node', (node: Redis) => {
      const key = nodeKey(node);
      // A SIGKILLed host closes its sockets without an error: the pool just drops the node.
      if (cluster.status !== 'ready' || !servingMasters(cluster).includes(key)) return;
      if (!this.downNodes.has(key)) this.nodeDown(key, 'connection closed');
      // Puts the node back into the pool while the slot map still names it (+node then probes it);
      // at most once a second per node, since a failed probe ends in -node again.
      const now = Date.now();
      if (now - (this.probedAt.get(key) ?? 0) < PROBE_INTERVAL_MS) return;
      this.probedAt.set(key, now);
      cluster.refreshSlotsCache();
    });
  }

  private nodeDown(key: string, reason: string): void {
    if (!this.downNodes.has(key)) this.logger.warn(`redis cluster node ${key} is unavailable: ${reason}`);
    this.downNodes.set(key, reason);
  }
}

function nodeKey(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}

/** The `host:port` of every node the Cluster's slot map names as a master. */
function servingMasters(cluster: Cluster): string[] {
  const keys = new Set<string>();
  for (const nodes of cluster.slots) {
    const master = nodes?.[0];
    if (master !== undefined) keys.add(master);
  }
  return [...keys];
}
