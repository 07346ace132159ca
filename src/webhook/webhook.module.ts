import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { TelegramModule } from '../telegram/telegram.module.js';
import { registerRawBodyParser } from './update-body.js';
import { SecretTokenGuard } from './secret-token.guard.js';
import { SubnetGuard } from './subnet.guard.js';
import { WebhookController } from './webhook.controller.js';
import { WebhookService } from './webhook.service.js';

/** Receives updates: the controller, the subnet guard and the secret-token check. */
@Module({
  imports: [TelegramModule],
  controllers: [WebhookController],
  providers: [WebhookService, SubnetGuard, SecretTokenGuard],
  exports: [WebhookService],
})
export class WebhookModule implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    registerRawBodyParser(this.adapterHost.httpAdapter.getInstance<FastifyInstance>());
  }
}
