import { Module } from '@nestjs/common';
import { TelegramModule } from '../telegram/telegram.module.js';
import { SecretTokenGuard } from './secret-token.guard.js';
import { SubnetGuard } from './subnet.guard.js';
import { WebhookController } from './webhook.controller.js';
import { WebhookService } from './webhook.service.js';

/** Receives updates: the webhook route, the subnet guard and the secret-token check. */
@Module({
  imports: [TelegramModule],
  providers: [WebhookController, WebhookService, SubnetGuard, SecretTokenGuard],
  exports: [WebhookService, SubnetGuard, SecretTokenGuard],
})
export class WebhookModule {}
