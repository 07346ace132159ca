import {
  HttpException,
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { limitListener } from './listener-limits.js';
import { RejectionLog } from './rejection-log.js';
import { SecretTokenGuard } from './secret-token.guard.js';
import { SubnetGuard } from './subnet.guard.js';
import { ABORTED, MAX_BODY_BYTES, registerRawBodyParser } from './update-body.js';
import { WebhookService } from './webhook.service.js';

/**
 * `POST /<endpoint>` of every bot, in a Fastify context of its own (its raw-body parser and error
 * handler do not touch the app's other routes). Decided on the headers alone, before a byte of the
 * body is read: subnet (403), path (404), secret (401), announced length (413) — a rejected
 * request costs no buffering, and its connection is closed. Then body (413/400) and publish
 * (200/503) in WebhookService.
 *
 * The route is registered on Fastify directly rather than through a Nest `@Controller`: on the hot
 * path Nest's per-request execution context, async guard chain and exception zone cost CPU this
 * route does not need (measured with `npm run bench`). The guards are the same classes, usable with
 * `@UseGuards` on routes of your own.
 */
@Injectable()
export class WebhookRoute implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(WebhookRoute.name);
  /** Sockets Node answered 408 on: their request's abort is a timeout, counted once. */
  private readonly timedOut = new WeakSet<Socket>();
  private readonly opsPort: number | undefined;
  private readonly adminPort: number | undefined;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly subnet: SubnetGuard,
    private readonly secret: SecretTokenGuard,
    private readonly webhook: WebhookService,
    private readonly metrics: MetricsService,
    private readonly rejections: RejectionLog,
    @Inject(RECEIVER_CONFIG) private readonly config: ReceiverConfig,
  ) {
    this.opsPort = config.settings.OPS_PORT;
    this.adminPort = config.settings.ADMIN_PORT;
  }

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    limitListener(adapter.getHttpServer() as Server, this.config.settings, (code, socket) =>
      this.clientError(code, socket),
    );
    void adapter.getInstance<FastifyInstance>().register((webhook, _options, done) => {
      registerRawBodyParser(webhook);
      webhook.addHook('onRequest', (request, reply, next) => this.admit(request, reply, next));
      webhook.setErrorHandler((error: FastifyError, request, reply) => this.failed(error, request, reply));
      webhook.post('/*', (request, reply) => this.webhook.receive(request, reply));
      done();
    });
  }

  onApplicationShutdown(): void {
    this.rejections.flush();
  }

  /** The checks made on the headers; sets `request.telegramBot` for the handler. */
  private admit(request: FastifyRequest, reply: FastifyReply, next: HookHandlerDoneFunction): void {
    // The internal OPS_PORT listener serves probes and metrics, never updates; ADMIN_PORT the admin API.
    // (`app.inject` requests have no local port: undefined must not match a port that is unset.)
    const port = request.raw.socket.localPort;
    if (port !== undefined && (port === this.opsPort || port === this.adminPort)) {
      const on = port === this.opsPort ? 'OPS_PORT' : 'ADMIN_PORT';
      refuse(reply, 404, { statusCode: 404, error: 'Not Found', message: `no webhook on ${on}` });
      return;
    }
    try {
      this.subnet.check(request);
      this.secret.check(request);
    } catch (error) {
      if (!(error instanceof HttpException)) throw error;
      // Never the path: with WEBHOOK_ENDPOINT=token it is the token.
      this.rejections.warn(
        error.message,
        `Rejected a webhook request from ${request.raw.socket.remoteAddress ?? 'unknown'}: ${error.getStatus()} ${error.message}`,
      );
      refuse(reply, error.getStatus(), error.getResponse());
      return;
    }
    const length = request.headers['content-length'];
    if (length !== undefined && Number(length) > MAX_BODY_BYTES) {
      const bot = request.telegramBot;
      this.metrics.requestRejected(bot?.idText ?? '', 'too_large');
      this.rejections.warn(
        'too_large',
        `Rejected a request for ${bot?.label ?? 'a bot'}: body exceeds 1 MiB`,
      );
      refuse(reply, 413, { statusCode: 413, error: 'Payload Too Large', message: 'body exceeds 1 MiB' });
      return;
    }
    next();
  }

  /** The webhook context's error handler: a client that went away, or a bug of ours. */
  private failed(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
    const bot = request.telegramBot;
    if ((error as FastifyError & { [ABORTED]?: true })[ABORTED]) {
      if (!this.timedOut.has(request.raw.socket)) {
        this.metrics.requestRejected(bot?.idText ?? '', 'aborted');
        this.rejections.debug(
          'aborted',
          `A client closed the connection before sending the whole body of a request for ${bot?.label ?? 'a bot'}`,
        );
      }
      refuse(reply, 400, { statusCode: 400, error: 'Bad Request', message: 'request aborted' });
      return;
    }
    this.logger.error(`Webhook request for ${bot?.label ?? 'a bot'} failed: ${error.message}`, error.stack);
    void reply.code(500).send({ statusCode: 500, error: 'Internal Server Error', message: 'internal error' });
  }

  /** Node's answer to a broken or late request (Fastify writes it): counted, logged at debug. */
  private clientError(code: string | undefined, socket: Socket): void {
    // The client went away mid-request: a webhook request whose body was being read counts as
    // `aborted` where it was read; one that had not got past its headers is no request at all.
    if (code === 'ECONNRESET' || code === 'HPE_INVALID_EOF_STATE') return;
    if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      this.timedOut.add(socket);
      this.metrics.requestRejected('', 'timeout');
      this.rejections.debug(
        'timeout',
        `Closed a connection from ${socket.remoteAddress ?? 'unknown'}: its request did not arrive in time (408)`,
      );
      return;
    }
    this.metrics.requestRejected('', 'bad_request');
    this.rejections.debug(
      'bad_http',
      `Closed a connection from ${socket.remoteAddress ?? 'unknown'}: not a valid HTTP request (${code ?? 'error'})`,
    );
  }
}

/** Answers a request whose body is not wanted, and closes the connection instead of reading it. */
function refuse(reply: FastifyReply, status: number, body: unknown): void {
  void reply.header('connection', 'close').code(status).send(body);
}
