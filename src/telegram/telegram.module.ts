import { Module } from '@nestjs/common';
import { BotRegistry } from './bot-registry.service.js';
import { TelegramClient } from './telegram.client.js';
import { WebhookLease } from './webhook-lease.service.js';
import { WebhookRegistrar } from './webhook-registrar.service.js';

/** The Bot API side: who each bot is, and its webhook registration. */
@Module({
  providers: [TelegramClient, BotRegistry, WebhookRegistrar, WebhookLease],
  exports: [TelegramClient, BotRegistry, WebhookRegistrar],
})
export class TelegramModule {}
