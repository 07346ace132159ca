import {
  Inject,
  Injectable,
  NotFoundException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { RECEIVER_CONFIG } from '../../config/config.constants.js';
import type { ReceiverConfig } from '../../config/load-settings.js';

/**
 * The admin routes exist on ADMIN_PORT only: on the webhook port (and OPS_PORT) they are 404, as
 * if they did not exist. The port is the request's socket's, which a client cannot forge.
 */
@Injectable()
export class AdminPortGuard implements CanActivate {
  private readonly port?: number;

  constructor(@Inject(RECEIVER_CONFIG) { settings }: ReceiverConfig) {
    this.port = settings.ADMIN_PORT;
  }

  canActivate(context: ExecutionContext): boolean {
    if (context.switchToHttp().getRequest<FastifyRequest>().raw.socket.localPort === this.port) return true;
    throw new NotFoundException();
  }
}
