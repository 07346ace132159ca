import { Module } from '@nestjs/common';
import { TelegramClient } from './telegram.client.js';

/** The Bot API client: calls, retries, errors. Knows tokens, not bots. */
@Module({
  providers: [TelegramClient],
  exports: [TelegramClient],
})
export class TelegramModule {}
