import { HttpException, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SecretTokenGuard } from './secret-token.guard.js';
import { SubnetGuard } from './subnet.guard.js';
import { registerRawBodyParser } from './update-body.js';
import { WebhookService } from './webhook.service.js';

/**
 * `POST /<endpoint>` of every bot. Checks, in order: subnet (403), path (404), secret (401), then
 * body (413/400) and publish (200/503) in WebhookService.
 *
 * The route is registered on Fastify directly rather than through a Nest `@Controller`: on the hot
 * path Nest's per-request execution context, async guard chain and exception zone cost about 15% of
 * the CPU an update takes (measured with `npm run bench`), and this route needs none of it. The
 * guards are the same classes, usable with `@UseGuards` on routes of your own.
 */
@Injectable()
export class WebhookController implements OnModuleInit {
  private readonly logger = new Logger(WebhookController.name);

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly subnet: SubnetGuard,
    private readonly secret: SecretTokenGuard,
    private readonly webhook: WebhookService,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    registerRawBodyParser(fastify);
    fastify.post('/*', (request, reply) => this.receive(request, reply));
  }

  receive(request: FastifyRequest, reply: FastifyReply): Promise<void> | void {
    try {
      this.subnet.check(request);
      this.secret.check(request);
    } catch (error) {
      if (!(error instanceof HttpException)) throw error;
      // Never the path: with WEBHOOK_ENDPOINT=token it is the token.
      this.logger.warn(
        `Rejected a webhook request from ${request.raw.socket.remoteAddress ?? 'unknown'}: ${error.getStatus()} ${error.message}`,
      );
      void reply.code(error.getStatus()).send(error.getResponse());
      return;
    }
    return this.webhook.receive(request, reply);
  }
}
