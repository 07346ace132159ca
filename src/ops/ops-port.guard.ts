import {
  Inject,
  Injectable,
  NotFoundException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';

/**
 * With OPS_PORT set, `/status`, `/status/live` and `/metrics` are answered on that port only: on
 * the public webhook port they are 404, as if they did not exist. Without it, everywhere.
 * The port a request came in on is its socket's, which a client cannot forge.
 */
@Injectable()
export class OpsPortGuard implements CanActivate {
  private readonly opsPort?: number;

  constructor(@Inject(RECEIVER_CONFIG) { settings }: ReceiverConfig) {
    this.opsPort = settings.OPS_PORT;
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.opsPort === undefined) return true;
    if (context.switchToHttp().getRequest<FastifyRequest>().raw.socket.localPort === this.opsPort)
      return true;
    throw new NotFoundException();
  }
}
