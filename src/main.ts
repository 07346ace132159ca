import './v8-flags.js';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger as PinoLogger } from 'nestjs-pino';
import { pino } from 'pino';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import { ConfigurationError, type ReceiverConfig } from './config/load-settings.js';
import { configFromProcess } from './config/process-config.js';
import { scrubbingHooks } from './logging/secret-scrubber.js';
import { loadWebhookTls, type WebhookTls } from './tls/webhook-tls.js';
import { errorMessage } from './common/error-message.js';

/**
 * Start-up lines before (and after) the app's own logger exists: the same JSON shape, scrubbed of
 * the secrets once the configuration is loaded (a failed getMe may echo `/bot<token>/getMe`).
 */
const logger = pino({
  base: { service: 'telegram-receiver', context: 'Bootstrap' },
  hooks: scrubbingHooks,
});

async function bootstrap(): Promise<void> {
  let config: ReceiverConfig;
  let tls: WebhookTls | undefined;
  try {
    config = configFromProcess();
    tls = loadWebhookTls(config.settings);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    logger.error(error.message);
    process.exit(1);
  }
  const { settings } = config;
  for (const warning of tls?.warnings ?? []) logger.warn(warning);
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({ config }),
    // WEBHOOK_CERT + WEBHOOK_KEY: serve HTTPS directly, no proxy in front.
    new FastifyAdapter({ logger: false, ...(tls && { https: { cert: tls.cert, key: tls.key } }) }),
    { bufferLogs: true, abortOnError: false },
  );
  // Structured JSON logs from here on (buffered start-up lines included).
  app.useLogger(app.get(PinoLogger));
  // On SIGTERM/SIGINT: stop taking updates, drain, deleteWebhook if enabled, close each
  // connection once, and exit 0.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  await app.listen(settings.WEBHOOK_PORT, settings.WEBHOOK_BIND);
  logger.info(
    `Receiving ${config.bots.length} bot(s) on ${tls ? 'https' : 'http'}://${settings.WEBHOOK_BIND}:${settings.WEBHOOK_PORT}`,
  );
}

bootstrap().catch((error: unknown) => {
  logger.error(errorMessage(error));
  process.exit(1);
});
