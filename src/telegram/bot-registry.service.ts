import { Injectable } from '@nestjs/common';
import type { BotConfig } from '../config/bots.js';

/** A configured bot once getMe has told us who it is. */
export interface Bot extends BotConfig {
  /** The bot's user id from getMe: its identity in published data, topics and dedup keys. */
  readonly id: number;
  readonly idText: string;
  readonly username?: string;
  /** How logs and errors name the bot: never the token. */
  readonly label: string;
  /** The secret as bytes, for a constant-time comparison on every request. */
  readonly secretBytes: Buffer;
}

/** Routes a webhook path to its bot with one map lookup, so a thousand bots cost what one does. */
@Injectable()
export class BotRegistry {
  private readonly byEndpoint = new Map<string, Bot>();

  add(config: BotConfig, id: number, username?: string): Bot {
    // Every field by name, in one order, rather than `{ ...config }`: spreading gave each of a
    // thousand bots its own hidden class, and every property read on the hot path went
    // megamorphic — an update cost ~5 µs more with the load spread over 1,000 bots.
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
      idText: String(id),
      username,
      label: `bot ${username ? `@${username}` : id} (${config.source})`,
      secretBytes: Buffer.from(config.secret),
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
