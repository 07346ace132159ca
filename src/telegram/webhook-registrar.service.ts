import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { BotConfig } from '../config/bots.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { BotRegistry, type Bot } from './bot-registry.service.js';
import { TelegramApiError } from './telegram-api.error.js';
import { TelegramClient } from './telegram.client.js';
import type { SetWebhookParams } from './telegram.types.js';

/** Thrown when start-up cannot go on: the message names the bot by position, never by token. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/** How many bots are registered at once at start-up: enough for hundreds of bots, gentle on the Bot API. */
const REGISTRATION_CONCURRENCY = 8;

/**
 * Identifies every bot (getMe) and registers its webhook (setWebhook) at start-up; removes the
 * webhook at shutdown when TELEGRAM_DELETE_WEBHOOK is on, never dropping pending updates.
 */
@Injectable()
export class WebhookRegistrar implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(WebhookRegistrar.name);

  constructor(
    @Inject(RECEIVER_CONFIG) private readonly config: ReceiverConfig,
    private readonly telegram: TelegramClient,
    private readonly registry: BotRegistry,
  ) {}

  async onModuleInit(): Promise<void> {
    await forEachLimited(this.config.bots, REGISTRATION_CONCURRENCY, async (config) => {
      const bot = await this.identify(config);
      if (this.config.settings.TELEGRAM_SET_WEBHOOK) await this.register(bot);
    });
  }

  async onModuleDestroy(): Promise<void> {
    if (!this.config.settings.TELEGRAM_DELETE_WEBHOOK) return;
    await forEachLimited(this.registry.all(), REGISTRATION_CONCURRENCY, async (bot) => {
      try {
        await this.telegram.deleteWebhook(bot.token, false);
        this.logger.log(`Webhook deleted for ${bot.label}; pending updates are kept by Telegram`);
      } catch (error) {
        this.logger.error(`deleteWebhook failed for ${bot.label}: ${(error as Error).message}`);
      }
    });
  }

  webhookUrl(bot: BotConfig): string {
    return `https://${this.config.settings.WEBHOOK_DOMAIN}/${bot.endpoint}`;
  }

  private async identify(config: BotConfig): Promise<Bot> {
    try {
      const me = await this.telegram.getMe(config.token);
      return this.registry.add(config, me.id, me.username);
    } catch (error) {
      if (error instanceof TelegramApiError && error.errorCode === 401) {
        throw new StartupError(
          `The Bot API rejected the token of the bot from ${config.source} (401 Unauthorized): check the token`,
        );
      }
      throw new StartupError(`getMe failed for the bot from ${config.source}: ${(error as Error).message}`);
    }
  }

  private async register(bot: Bot): Promise<void> {
    const { settings } = this.config;
    const params: SetWebhookParams = {
      url: this.webhookUrl(bot),
      secret_token: bot.secret,
      max_connections: settings.WEBHOOK_MAX_CONNECTIONS,
    };
    if (bot.allowedUpdates) params.allowed_updates = bot.allowedUpdates;
    if (settings.WEBHOOK_DROP_PENDING_UPDATES) params.drop_pending_updates = true;
    if (settings.WEBHOOK_IP_ADDRESS) params.ip_address = settings.WEBHOOK_IP_ADDRESS;
    try {
      await this.telegram.setWebhook(bot.token, params);
    } catch (error) {
      throw new StartupError(`setWebhook failed for ${bot.label}: ${(error as Error).message}`);
    }
    this.logger.log(`Webhook registered for ${bot.label} at https://${settings.WEBHOOK_DOMAIN}/…`);
  }
}

async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
