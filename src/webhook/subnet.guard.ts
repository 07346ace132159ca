import {
  ForbiddenException,
  Inject,
  Injectable,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { SubnetMatcher } from '../common/cidr.js';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { clientAddress } from './client-address.js';

/**
 * Lets webhook requests in only from WEBHOOK_LIMIT_SUBNETS (when set) — 403 otherwise. An optional
 * extra: the secret header is the real check, and Telegram says its ranges "might change".
 */
@Injectable()
export class SubnetGuard implements CanActivate {
  private readonly allowed: SubnetMatcher;
  private readonly trustedProxies: SubnetMatcher;

  constructor(
    @Inject(RECEIVER_CONFIG) { settings }: ReceiverConfig,
    private readonly metrics: MetricsService,
  ) {
    this.allowed = new SubnetMatcher(settings.WEBHOOK_LIMIT_SUBNETS);
    this.trustedProxies = new SubnetMatcher(settings.WEBHOOK_TRUSTED_PROXIES);
  }

  canActivate(context: ExecutionContext): boolean {
    return this.check(context.switchToHttp().getRequest<FastifyRequest>());
  }

  /** The check itself, for the webhook route and any route of yours. Throws ForbiddenException. */
  check(request: FastifyRequest): true {
    if (this.allowed.isEmpty) return true;
    if (this.allowed.contains(clientAddress(request, this.trustedProxies))) return true;
    this.metrics.requestRejected('', 'subnet');
    throw new ForbiddenException('source address is not in WEBHOOK_LIMIT_SUBNETS');
  }
}
