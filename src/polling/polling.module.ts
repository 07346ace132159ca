import { Module } from '@nestjs/common';
import { TelegramModule } from '../telegram/telegram.module.js';
import { UpdatePoller } from './update-poller.service.js';

/** TELEGRAM_MODE=polling: updates come from getUpdates instead of the webhook. */
@Module({
  imports: [TelegramModule],
  providers: [UpdatePoller],
})
export class PollingModule {}
