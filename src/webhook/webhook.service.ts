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
import { PublishError } from '../publisher/publish.error.js';
import { PublishService } from '../publisher/publish.service.js';
import { encodePayload } from '../publisher/payload.js';
import type { Bot } from '../telegram/bot-registry.service.js';
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
  private readonly format: 'raw' | 'envelope';

  constructor(
    private readonly publisher: PublishService,
    private readonly shutdown: ShutdownState,
    @Inject(RECEIVER_CONFIG) private readonly config: ReceiverConfig,
  ) {
    this.format = config.settings.PUBLISH_FORMAT;
  }

  async receive(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (this.shutdown.draining) return unavailable(reply, 'shutting down; retry against another replica');
    const body = request.body as WebhookBody;
    if (body === BODY_TOO_LARGE) return error(reply, 413, 'Payload Too Large', 'body exceeds 1 MiB');
    if (body === undefined) return error(reply, 400, 'Bad Request', 'body must be a JSON object');
    const parsed = parseUpdate(body);
    if (typeof parsed === 'string') return error(reply, 400, 'Bad Request', parsed);

    this.inFlight++;
    try {
      const bot = request.telegramBot as Bot;
      const receivedAt = Date.now();
      await this.publisher.publish({
        bot,
        updateId: parsed.updateId,
        type: parsed.type,
        raw: body,
        payload: encodePayload(this.format, bot, parsed.updateId, parsed.type, body, receivedAt),
        receivedAt,
      });
      void reply.code(200).send();
    } catch (failure) {
      if (!(failure instanceof PublishError)) throw failure;
      this.logger.warn(`Update ${parsed.updateId} not stored, answered 503: ${failure.message}`);
      unavailable(reply, 'update not stored; retry later');
    } finally {
      if (--this.inFlight === 0) this.drained?.();
    }
  }

  /** First step of shutdown: stop taking updates (readiness turns 503 too). */
  onModuleDestroy(): void {
    this.shutdown.begin();
  }

  /** Requests already accepted finish publishing and get their answer, within SHUTDOWN_TIMEOUT_MS. */
  async beforeApplicationShutdown(): Promise<void> {
    this.shutdown.begin();
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
