import type { BotConfig, BotRoutes } from '../config/bots.js';

/**
 * Who a bot is, and where its updates go: what publishers, metrics and plug-ins see of it
 * (`InboundUpdate.bot`). Never the token or the secret — a plug-in that logs it logs nothing secret.
 */
export interface BotIdentity {
  /** 1-based position among the configured bots; per-bot state on the hot path sits in arrays by it. */
  readonly index: number;
  /** The bot's user id from getMe: its identity in published data, topics and dedup keys. */
  readonly id: number;
  readonly idText: string;
  readonly username?: string;
  /** How logs and errors name the bot: `bot @name (BOTS_FILE entry 3)`. */
  readonly label: string;
  /** Its own routing from BOTS_FILE, when it has one (target name → kinds). */
  readonly routes?: BotRoutes;
  /** Its own Redis queue, MQTT topic and Kafka topic (templates) from BOTS_FILE, when set. */
  readonly redisQueue?: string;
  readonly mqttTopic?: string;
  readonly kafkaTopic?: string;
}

/**
 * A configured bot once getMe has told who it is: its configuration (token, secret, endpoint)
 * for the webhook check and the Bot API client, and its identity for everything downstream.
 */
export interface Bot extends BotConfig {
  readonly id: number;
  readonly idText: string;
  readonly username?: string;
  readonly label: string;
  /** The secret as bytes, for a constant-time comparison on every request. */
  readonly secretBytes: Buffer;
  /** What leaves the webhook with each update: the same bot without its token or secret. */
  readonly identity: BotIdentity;
}
