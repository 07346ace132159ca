import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { PublishersHealthIndicator } from './publishers.health.js';
import { WebhookHealthIndicator } from './webhook.health.js';

/** Kubernetes probes: `/status` readiness (every publisher connected), `/status/live` liveness (the process only). */
@Controller('status')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly publishers: PublishersHealthIndicator,
    private readonly webhook: WebhookHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  readiness(): Promise<HealthCheckResult> {
    return this.health.check([...this.publishers.checks(), () => this.webhook.check()]);
  }

  @Get('live')
  @HealthCheck()
  liveness(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }
}
