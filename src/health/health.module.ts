import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { TelegramModule } from '../telegram/telegram.module.js';
import { PublishersHealthIndicator } from './publishers.health.js';
import { WebhookHealthIndicator } from './webhook.health.js';

/** The `/status` routes (left out entirely when WEBHOOK_STATUS_ENDPOINT=false). */
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), TelegramModule],
  controllers: [HealthController],
  providers: [PublishersHealthIndicator, WebhookHealthIndicator],
})
export class HealthModule {}
