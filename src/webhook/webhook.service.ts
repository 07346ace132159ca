import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { ShutdownState } from '../common/shutdown.state.js';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { PublishError } from '../publisher/publish.error.js';
import { UpdateIntake } from '../publisher/update-intake.service.js';
import type { Bot } from '../bots/bot.js';
import { RejectionLog } from './rejection-log.js';
import { BODY_TOO_LARGE, parseUpdate, type WebhookBody } from './update-body.js';

/** Seconds Telegram is asked to wait before resending after a 503. */
export const RETRY_AFTER_SECONDS = 3;

/**
 * The hot path: body checks → publish to every target → answer. 200 with an empty body only
 * once every target holds the update; 503 + Retry-After otherwise, so Telegram resends it.
 */
@Injectable()
export class WebhookService implements OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookService.name);
  private inFlight = 0;
  private drained?: () => void;

  constructor(
    private readonly intake: UpdateIntake,
    private readonly shutdown: ShutdownState,
    private readonly metrics: MetricsService,
    private readonly rejections: RejectionLog,
    @Inject(RECEIVER_CONFIG) private readonly config: ReceiverConfig,
  ) {}

  async receive(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const bot = request.telegramBot as Bot;
    if (this.shutdown.draining) {
      this.metrics.requestRejected(bot.idText, 'shutting_down');
      return unavailable(reply, 'shutting down; retry against another replica');
    }
    const body = request.body as WebhookBody;
    if (body === BODY_TOO_LARGE) {
      this.metrics.requestRejected(bot.idText, 'too_large');
      this.rejections.warn('too_large', `Rejected a request for ${bot.label}: body exceeds 1 MiB`);
      // The rest of the body is not read: close the connection rather than drain it.
      void reply.header('connection', 'close');
      return error(reply, 413, 'Payload Too Large', 'body exceeds 1 MiB');
    }
    if (body === undefined) return this.badRequest(reply, bot, 'body is empty');
    const parsed = parseUpdate(body);
    if (typeof parsed === 'string') return this.badRequest(reply, bot, parsed);
    this.inFlight++;
    try {
      await this.intake.take(bot.identity, parsed.updateId, parsed.type, body, Date.now());
      void reply.code(200).send();
    } catch (failure) {
      if (!(failure instanceof PublishError)) throw failure;
      this.metrics.requestRejected(bot.idText, 'publish_failed');
      this.rejections.warn(
        'publish_failed',
        `Update ${parsed.updateId} of ${bot.label} not stored, answered 503: ${failure.message}`,
      );
      unavailable(reply, 'update not stored; retry later');
    } finally {
      if (--this.inFlight === 0) this.drained?.();
    }
  }

  private badRequest(reply: FastifyReply, bot: Bot, reason: string): void {
    this.metrics.requestRejected(bot.idText, 'bad_request');
    this.rejections.warn('bad_request', `Rejected a request for ${bot.label}: ${reason}`);
    error(reply, 400, 'Bad Request', reason);
  }

  /** First step of shutdown: stop taking updates (readiness turns 503 too). */
  onModuleDestroy(): void {
    this.shutdown.begin();
    this.logger.log('Shutting down: readiness is 503, new updates are answered 503 + Retry-After');
  }

  /** Requests already accepted finish publishing and get their answer, within SHUTDOWN_TIMEOUT_MS. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.inFlight === 0) return;
    const timeout = this.config.settings.SHUTDOWN_TIMEOUT_MS;
    this.logger.log(`Draining ${this.inFlight} request(s) in flight`);
    const drained = new Promise<void>((resolve) => (this.drained = resolve));
    await Promise.race([drained, sleep(timeout, undefined, { ref: false })]);
    if (this.inFlight > 0)
      this.logger.warn(`${this.inFlight} request(s) still in flight after ${timeout} ms`);
  }
}

function error(reply: FastifyReply, status: number, name: string, message: string): void {
  void reply.code(status).send({ statusCode: status, error: name, message });
}

function unavailable(reply: FastifyReply, message: string): void {
  void reply.header('retry-after', RETRY_AFTER_SECONDS);
  error(reply, 503, 'Service Unavailable', message);
}
