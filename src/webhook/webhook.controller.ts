import { Controller, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SecretTokenGuard } from './secret-token.guard.js';
import { SubnetGuard } from './subnet.guard.js';
import { WebhookService } from './webhook.service.js';

/** `POST /<endpoint>` of every bot. Checks in order: subnet (403), path (404), secret (401), body (413/400). */
@Controller()
export class WebhookController {
  constructor(private readonly webhook: WebhookService) {}

  @Post('*')
  @UseGuards(SubnetGuard, SecretTokenGuard)
  receive(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.webhook.receive(request, reply);
  }
}
