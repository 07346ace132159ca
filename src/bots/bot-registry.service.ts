import { Injectable } from '@nestjs/common';
import { endpointCollisions, normaliseEndpoint } from '../config/endpoint.js';
import type { BotConfig } from '../config/bots.js';
import type { Bot, BotIdentity } from './bot.js';

/** Bots that start and stop being routed together, in one swap of the routing table. */
export interface RoutingChange {
  readonly add?: readonly Bot[];
  readonly remove?: readonly Bot[];
}

/**
 * Routes a webhook path to its bot with one map lookup, so a thousand bots cost what one does.
 *
 * The table is never changed in place: adding or removing bots builds a new map and swaps it in,
 * so the hot path reads it without a lock, and a request that already found its bot keeps it
 * (`request.telegramBot`) even when that bot is removed before the answer.
 */
@Injectable()
export class BotRegistry {
  private byEndpoint: ReadonlyMap<string, Bot> = new Map();
  private byId: ReadonlyMap<number, Bot> = new Map();
  private list: readonly Bot[] = [];
  /**
   * Every index a bot was ever given: per-bot state on the hot path (route caches, metric cells)
   * sits in arrays by index, so an index is never handed to a second bot, nor to a bot whose
   * configuration changed.
   */
  private readonly usedIndexes = new Set<number>();
  private lastIndex = 0;

  /**
   * The bot this configuration and getMe's answer make, not routed yet (see `apply`). Keeps the
   * configuration's index when no bot had it, as at start-up; otherwise takes a new one.
   */
  create(config: BotConfig, id: number, username?: string): Bot {
    const index = config.index > 0 && !this.usedIndexes.has(config.index) ? config.index : this.lastIndex + 1;
    this.usedIndexes.add(index);
    if (index > this.lastIndex) this.lastIndex = index;
    const idText = String(id);
    const label = `bot ${username ? `@${username}` : id} (${config.source})`;
    // Every field by name, in one order, rather than `{ ...config }`: spreading gave each of a
    // thousand bots its own hidden class, and every property read on the hot path went megamorphic.
    const identity: BotIdentity = {
      index,
      id,
      idText,
      username,
      label,
      routes: config.routes,
      redisQueue: config.redisQueue,
      mqttTopic: config.mqttTopic,
      kafkaTopic: config.kafkaTopic,
    };
    return {
      index,
      source: config.source,
      token: config.token,
      endpoint: normaliseEndpoint(config.endpoint),
      secret: config.secret,
      allowedUpdates: config.allowedUpdates,
      redisQueue: config.redisQueue,
      mqttTopic: config.mqttTopic,
      kafkaTopic: config.kafkaTopic,
      routes: config.routes,
      id,
      idText,
      username,
      label,
      secretBytes: Buffer.from(config.secret),
      identity,
    };
  }

  /** Creates the bot and routes to it at once (start-up, the CLI). */
  add(config: BotConfig, id: number, username?: string): Bot {
    const bot = this.create(config, id, username);
    this.apply({ add: [bot] });
    return bot;
  }

  /**
   * What would be wrong with this change: a new bot at a path another bot keeps, or a bot
   * (the same getMe id) already routed. Empty when `apply` may go ahead.
   */
  problems(change: RoutingChange): string[] {
    const removed = new Set(change.remove ?? []);
    const kept = this.list.filter((bot) => !removed.has(bot));
    const added = change.add ?? [];
    const problems: string[] = [];
    const ids = new Map(kept.map((bot) => [bot.id, bot]));
    for (const bot of added) {
      const owner = ids.get(bot.id);
      if (owner) problems.push(`${bot.source}: this bot is already served (${owner.label})`);
      ids.set(bot.id, bot);
    }
    problems.push(...endpointCollisions([...kept, ...added]));
    return problems;
  }

  /** Swaps in a table without the removed bots and with the added ones, in one step. */
  apply(change: RoutingChange): void {
    const byEndpoint = new Map(this.byEndpoint);
    const byId = new Map(this.byId);
    for (const bot of change.remove ?? []) {
      if (byEndpoint.get(bot.endpoint) === bot) byEndpoint.delete(bot.endpoint);
      if (byId.get(bot.id) === bot) byId.delete(bot.id);
    }
    for (const bot of change.add ?? []) {
      byEndpoint.set(bot.endpoint, bot);
      byId.set(bot.id, bot);
    }
    // Three fields, set in one synchronous step: nothing reads them in between.
    this.byEndpoint = byEndpoint;
    this.byId = byId;
    this.list = [...byId.values()];
  }

  /** The bot served at this URL path (with or without the leading slash and query string). */
  findByPath(url: string): Bot | undefined {
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    return this.byEndpoint.get(path.charCodeAt(0) === 47 /* / */ ? path.slice(1) : path);
  }

  /** The routed bot with this getMe id. */
  findById(id: number): Bot | undefined {
    return this.byId.get(id);
  }

  /** Whether this very bot (not a later version of it) is still routed. */
  routes(bot: Bot): boolean {
    return this.byId.get(bot.id) === bot;
  }

  get size(): number {
    return this.list.length;
  }

  /** The bots routed now; a copy the caller may keep while the table changes. */
  all(): Bot[] {
    return [...this.list];
  }
}
