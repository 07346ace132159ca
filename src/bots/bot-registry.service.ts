import { Injectable } from '@nestjs/common';
import type { BotConfig } from '../config/bots.js';
import type { Bot, BotIdentity } from './bot.js';

/** Routes a webhook path to its bot with one map lookup, so a thousand bots cost what one does. */
@Injectable()
export class BotRegistry {
  private readonly byEndpoint = new Map<string, Bot>();

  add(config: BotConfig, id: number, username?: string): Bot {
    const idText = String(id);
    const label = `bot ${username ? `@${username}` : id} (${config.source})`;
    // Every field by name, in one order, rather than `{ ...config }`: spreading gave each of a
    // thousand bots its own hidden class, and every property read on the hot path went megamorphic.
    const identity: BotIdentity = {
      index: config.index,
      id,
      idText,
      username,
      label,
      routes: config.routes,
      redisQueue: config.redisQueue,
      mqttTopic: config.mqttTopic,
    };
    const bot: Bot = {
      index: config.index,
      source: config.source,
      token: config.token,
      endpoint: config.endpoint,
      secret: config.secret,
      allowedUpdates: config.allowedUpdates,
      redisQueue: config.redisQueue,
      mqttTopic: config.mqttTopic,
      routes: config.routes,
      id,
      idText,
      username,
      label,
      secretBytes: Buffer.from(config.secret),
      identity,
    };
    this.byEndpoint.set(config.endpoint, bot);
    return bot;
  }

  /** The bot served at this URL path (with or without the leading slash and query string). */
  findByPath(url: string): Bot | undefined {
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    return this.byEndpoint.get(path.charCodeAt(0) === 47 /* / */ ? path.slice(1) : path);
  }

  all(): Bot[] {
    return [...this.byEndpoint.values()];
  }
}
