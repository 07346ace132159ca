import { Module } from '@nestjs/common';
import { BotsModule } from '../bots/bots.module.js';
import { TelegramModule } from '../telegram/telegram.module.js';
import { WebhookLease } from './webhook-lease.service.js';
import { WebhookReconciler } from './webhook-reconciler.service.js';
import { WebhookRegistrar } from './webhook-registrar.service.js';
import { WebhookRemover } from './webhook-remover.service.js';
import { WebhookStates } from './webhook-states.js';

/**
 * Each bot's webhook at Telegram: registered at start-up, kept registered (the reconciler),
 * removed at shutdown by the last replica (the lease).
 */
@Module({
  imports: [BotsModule, TelegramModule],
  providers: [WebhookStates, WebhookRegistrar, WebhookReconciler, WebhookRemover, WebhookLease],
  exports: [WebhookStates, WebhookRegistrar, WebhookRemover],
})
export class RegistrationModule {}
