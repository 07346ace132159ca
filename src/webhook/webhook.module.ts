import { Module } from '@nestjs/common';
import { BotsModule } from '../bots/bots.module.js';
import { RejectionLog } from './rejection-log.js';
import { SecretTokenGuard } from './secret-token.guard.js';
import { SubnetGuard } from './subnet.guard.js';
import { WebhookRoute } from './webhook.route.js';
import { WebhookService } from './webhook.service.js';

/** Receives updates: the webhook route, the subnet guard and the secret-token check. */
@Module({
  imports: [BotsModule],
  providers: [WebhookRoute, WebhookService, SubnetGuard, SecretTokenGuard, RejectionLog],
  exports: [WebhookService, SubnetGuard, SecretTokenGuard],
})
export class WebhookModule {}
