import { Module } from '@nestjs/common';
import { TelegramModule } from '../telegram/telegram.module.js';
import { BotIdentifier } from './bot-identifier.service.js';
import { BotRegistry } from './bot-registry.service.js';
import { BotStore } from './store/bot-store.service.js';

/**
 * The bots this service receives for: who each is (getMe at start-up) and which path leads to it.
 * The room the runtime bot registry grows in, and the shared bot store (store/, BOTS_STORE=redis).
 */
@Module({
  imports: [TelegramModule],
  providers: [BotRegistry, BotIdentifier, BotStore],
  exports: [BotRegistry, BotIdentifier, BotStore],
})
export class BotsModule {}
