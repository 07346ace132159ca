import { createHash, timingSafeEqual } from 'node:crypto';
import {
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RECEIVER_CONFIG } from '../../config/config.constants.js';
import type { ReceiverConfig } from '../../config/load-settings.js';
import { knownSecrets } from '../../logging/secret-scrubber.js';

/** SHA-256 of a token: equal lengths for timingSafeEqual whatever was sent. */
const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time (as digests, so neither the
 * length nor a prefix of the token leaks); 401 without it.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(RECEIVER_CONFIG) { settings }: ReceiverConfig) {
    // ADMIN_TOKEN is required with ADMIN_PORT (load-settings), and this guard exists only then.
    this.expected = digest(settings.ADMIN_TOKEN ?? '');
    if (settings.ADMIN_TOKEN !== undefined) knownSecrets.add(settings.ADMIN_TOKEN);
  }

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const header = http.getRequest<FastifyRequest>().headers.authorization;
    const given = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (given !== '' && timingSafeEqual(digest(given), this.expected)) return true;
    void http.getResponse<FastifyReply>().header('www-authenticate', 'Bearer');
    throw new UnauthorizedException('missing or wrong bearer token (ADMIN_TOKEN)');
  }
}
