import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { PublishersHealthIndicator } from './publishers.health.js';

/** Kubernetes probes: `/status` readiness (every publisher connected), `/status/live` liveness (the process only). */
@Controller('status')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly publishers: PublishersHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  readiness(): Promise<HealthCheckResult> {
    return this.health.check(this.publishers.checks());
  }

  @Get('live')
  @HealthCheck()
  liveness(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }
}
