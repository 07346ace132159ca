import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { PublishersHealthIndicator } from './publishers.health.js';

/** The `/status` routes (left out entirely when WEBHOOK_STATUS_ENDPOINT=false). */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [PublishersHealthIndicator],
})
export class HealthModule {}
