import { Controller, Get, UseGuards } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { OpsPortGuard } from '../ops/ops-port.guard.js';
import { PublishersHealthIndicator } from './publishers.health.js';
import { WebhookHealthIndicator } from './webhook.health.js';

/**
 * Kubernetes probes: `/status` readiness (every publisher connected), `/status/live` liveness (the
 * process only); on OPS_PORT only, when it is set.
 */
@Controller('status')
@UseGuards(OpsPortGuard)
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
