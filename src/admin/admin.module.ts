import { Module } from '@nestjs/common';
import { BotsModule } from '../bots/bots.module.js';
import { RegistrationModule } from '../registration/registration.module.js';
import { BotStoreFollower } from './bot-store-follower.service.js';
import { BotsFileReloader } from './bots-file-reloader.service.js';
import { RuntimeBots } from './runtime-bots.service.js';

/**
 * Changing the bots served while running: BOTS_FILE followed (hot reload), through RuntimeBots,
 * which swaps the routing table and registers or deletes webhooks; the shared bot store followed
 * (BOTS_STORE=redis).
 */
@Module({
  imports: [BotsModule, RegistrationModule],
  providers: [RuntimeBots, BotsFileReloader, BotStoreFollower],
  exports: [RuntimeBots, BotStoreFollower],
})
export class AdminModule {}
