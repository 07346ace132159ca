import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { errorMessage } from '../common/error-message.js';
import { forEachLimited } from '../common/for-each-limited.js';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { BotConfig } from '../config/bots.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { TelegramApiError } from '../telegram/telegram-api.error.js';
import { BOT_API_CONCURRENCY, TelegramClient } from '../telegram/telegram.client.js';
import type { Bot } from './bot.js';
import { BotRegistry } from './bot-registry.service.js';
import { StartupError } from './startup.error.js';

/**
 * Asks getMe who each configured bot is and adds it to the registry — at start-up for the service
 * (webhook and polling alike, before anything routes to a bot), on demand for the CLI.
 */
@Injectable()
export class BotIdentifier implements OnModuleInit {
  constructor(
    @Inject(RECEIVER_CONFIG) private readonly config: ReceiverConfig,
    private readonly telegram: TelegramClient,
    private readonly registry: BotRegistry,
  ) {}

  async onModuleInit(): Promise<void> {
    const bots: Bot[] = [];
    await forEachLimited(this.config.bots, BOT_API_CONCURRENCY, async (config) => {
      bots.push(await this.lookUp(config));
    });
    // One swap of the routing table for all of them, not one copy of it per bot.
    this.registry.apply({ add: bots });
  }

  /** getMe, and the bot added to the registry. Throws StartupError (see lookUp). */
  async identify(config: BotConfig): Promise<Bot> {
    const bot = await this.lookUp(config);
    this.registry.apply({ add: [bot] });
    return bot;
  }

  /**
   * getMe: who the bot is, as a bot not routed yet. Throws StartupError naming the bot by its
   * position, never its token.
   */
  async lookUp(config: BotConfig): Promise<Bot> {
    try {
      const me = await this.telegram.getMe(config.token);
      return this.registry.create(config, me.id, me.username);
    } catch (error) {
      if (error instanceof TelegramApiError && error.errorCode === 401) {
        throw new StartupError(
          `The Bot API rejected the token of the bot from ${config.source} (401 Unauthorized): check the token`,
        );
      }
      throw new StartupError(`getMe failed for the bot from ${config.source}: ${errorMessage(error)}`);
    }
  }
}
