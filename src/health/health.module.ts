import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { BotsModule } from '../bots/bots.module.js';
import { RegistrationModule } from '../registration/registration.module.js';
import { PublishersHealthIndicator } from './publishers.health.js';
import { WebhookHealthIndicator } from './webhook.health.js';

/** The `/status` routes (left out entirely when WEBHOOK_STATUS_ENDPOINT=false). */
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), BotsModule, RegistrationModule],
  controllers: [HealthController],
  providers: [PublishersHealthIndicator, WebhookHealthIndicator],
})
export class HealthModule {}
