import { Controller, Get, Header, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { OpsPortGuard } from '../ops/ops-port.guard.js';
import { MetricsService } from './metrics.service.js';

/** `GET /metrics` in the Prometheus text format (on OPS_PORT only, when it is set). */
@Controller('metrics')
@UseGuards(OpsPortGuard)
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('cache-control', 'no-store')
  async scrape(@Res() reply: FastifyReply): Promise<void> {
    const body = await this.metrics.scrape();
    void reply.header('content-type', this.metrics.registry.contentType).send(body);
  }
}
