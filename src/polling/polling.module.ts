import { Module } from '@nestjs/common';
import { BotsModule } from '../bots/bots.module.js';
import { TelegramModule } from '../telegram/telegram.module.js';
import { UpdatePoller } from './update-poller.service.js';

/** TELEGRAM_MODE=polling: updates come from getUpdates instead of the webhook. */
@Module({
  imports: [BotsModule, TelegramModule],
  providers: [UpdatePoller],
})
export class PollingModule {}
