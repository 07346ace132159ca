import { Module } from '@nestjs/common';
import { BotsModule } from '../../bots/bots.module.js';
import { RegistrationModule } from '../../registration/registration.module.js';
import { TelegramModule } from '../../telegram/telegram.module.js';
import { AdminModule } from '../admin.module.js';
import { AdminPortGuard } from './admin-port.guard.js';
import { AdminServer } from './admin-server.service.js';
import { AdminTokenGuard } from './admin-token.guard.js';
import { BotAdmin } from './bot-admin.service.js';
import { BotsController, OpenApiController } from './bots.controller.js';

/**
 * The admin API: its listener (ADMIN_PORT), guards and controllers. Loaded only with ADMIN_PORT
 * set, so without it no admin route exists at all (and class-validator's index is not loaded).
 */
@Module({
  imports: [AdminModule, BotsModule, RegistrationModule, TelegramModule],
  controllers: [BotsController, OpenApiController],
  providers: [AdminServer, AdminPortGuard, AdminTokenGuard, BotAdmin],
})
export class AdminApiModule {}
