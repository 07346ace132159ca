import {
  Injectable,
  NotFoundException,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { MetricsService } from '../metrics/metrics.service.js';
import { BotRegistry } from '../bots/bot-registry.service.js';

export const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

/**
 * Finds the bot the request's path belongs to (404 when none) and checks Telegram's secret
 * header against that bot's secret in constant time (401 when it differs or is missing).
 */
@Injectable()
export class SecretTokenGuard implements CanActivate {
  constructor(
    private readonly bots: BotRegistry,
    private readonly metrics: MetricsService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    return this.check(context.switchToHttp().getRequest<FastifyRequest>());
  }

  /** The check itself; sets `request.telegramBot`. Throws NotFoundException or UnauthorizedException. */
  check(request: FastifyRequest): true {
    const bot = this.bots.findByPath(request.url);
    if (!bot) {
      this.metrics.requestRejected('', 'unknown_path');
      throw new NotFoundException('no bot is served at this path');
    }
    const header = request.headers[SECRET_HEADER];
    if (typeof header !== 'string' || !sameSecret(Buffer.from(header), bot.secretBytes)) {
      this.metrics.requestRejected(bot.idText, 'secret');
      throw new UnauthorizedException('missing or wrong X-Telegram-Bot-Api-Secret-Token');
    }
    request.telegramBot = bot;
    return true;
  }
}

function sameSecret(given: Buffer, expected: Buffer): boolean {
  return given.length === expected.length && timingSafeEqual(given, expected);
}
