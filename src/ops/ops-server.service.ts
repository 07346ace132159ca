import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import type { Server } from 'node:http';
import { closeListener, listenBeside } from '../common/second-listener.js';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';

/**
 * OPS_PORT: a second, plain-HTTP listener on WEBHOOK_BIND for probes and Prometheus. It hands each
 * request to the same Fastify instance (`fastify.routing`: the same routes, hooks and handlers),
 * where OpsPortGuard lets `/status*` and `/metrics` through on this port only and the webhook
 * route refuses it. Kubernetes' Service for Telegram never routes here.
 */
@Injectable()
export class OpsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OpsServer.name);
  private server?: Server;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(RECEIVER_CONFIG) private readonly config: ReceiverConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { OPS_PORT: port, WEBHOOK_BIND: bind } = this.config.settings;
    if (port === undefined) return;
    // Every route is registered by now (Nest's and the webhook's, in onModuleInit).
    this.server = await listenBeside(this.adapterHost.httpAdapter.getInstance<FastifyInstance>(), port, bind);
    this.logger.log(`Serving /status, /status/live and /metrics on http://${bind}:${port} (OPS_PORT)`);
  }

  onApplicationShutdown(): Promise<void> {
    return closeListener(this.server);
  }
}
