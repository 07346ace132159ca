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
import { closeListener, listenBeside } from '../../common/second-listener.js';
import { RECEIVER_CONFIG } from '../../config/config.constants.js';
import type { ReceiverConfig } from '../../config/load-settings.js';

/**
 * ADMIN_PORT: the admin API's own plain-HTTP listener on ADMIN_BIND (loopback by default). As
 * OPS_PORT does, it hands each request to the same Fastify instance (`fastify.routing`), where
 * AdminPortGuard lets the admin routes through on this port only and the webhook route refuses it.
 */
@Injectable()
export class AdminServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AdminServer.name);
  private server?: Server;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(RECEIVER_CONFIG) private readonly config: ReceiverConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { ADMIN_PORT: port, ADMIN_BIND: bind } = this.config.settings;
    if (port === undefined) return;
    // Every route is registered by now (Nest's and the webhook's, in onModuleInit).
    this.server = await listenBeside(this.adapterHost.httpAdapter.getInstance<FastifyInstance>(), port, bind);
    this.logger.log(`Serving the admin API on http://${bind}:${port} (ADMIN_PORT)`);
  }

  onApplicationShutdown(): Promise<void> {
    return closeListener(this.server);
  }
}
