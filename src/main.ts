import './v8-flags.js';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import { BotRegistry } from './bots/bot-registry.service.js';
import { errorMessage } from './common/error-message.js';
import { ConfigurationError, type ReceiverConfig } from './config/load-settings.js';
import { configFromProcess } from './config/process-config.js';
import { configSecrets, knownSecrets } from './logging/secret-scrubber.js';
import { createServicePino, PinoNestLogger } from './logging/service-logger.js';
import { loadWebhookTls, type WebhookTls } from './tls/webhook-tls.js';

async function bootstrap(): Promise<void> {
  let config: ReceiverConfig;
  let tls: WebhookTls | undefined;
  try {
    config = configFromProcess();
    tls = loadWebhookTls(config.settings);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    // For a person at a terminal or reading `kubectl logs`: one line per problem, not one JSON line.
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  // Before the first line that could carry them (a failed getMe may echo `/bot<token>/getMe`).
  knownSecrets.add(...configSecrets(config));
  const { settings } = config;
  const logger = new PinoNestLogger(createServicePino(settings.LOG_LEVEL));
  // Start-up's own lines (starting, listening, failed) are shown at any LOG_LEVEL but silent.
  const log = logger.pino.child(
    { context: 'Bootstrap' },
    { level: settings.LOG_LEVEL === 'silent' ? 'silent' : 'info' },
  );
  for (const warning of tls?.warnings ?? []) log.warn(warning);
  const stored = settings.BOTS_STORE === 'redis' ? ' and those of the bot store (BOTS_STORE=redis)' : '';
  log.info(`Starting: ${config.bots.length} bot(s)${stored}, ${settings.TELEGRAM_MODE} mode`);
  let served = config.bots.length;
  try {
    const app = await NestFactory.create<NestFastifyApplication>(
      AppModule.forRoot({ config }),
      // WEBHOOK_CERT + WEBHOOK_KEY: serve HTTPS directly, no proxy in front.
      new FastifyAdapter({ logger: false, ...(tls && { https: { cert: tls.cert, key: tls.key } }) }),
      // Lines stream as they happen, start-up included: nothing is held back.
      { logger, bufferLogs: false, abortOnError: false },
    );
    // On SIGTERM/SIGINT: stop taking updates, drain, deleteWebhook if enabled, close each
    // connection once, and exit 0.
    app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
    await app.listen(settings.WEBHOOK_PORT, settings.WEBHOOK_BIND);
    // With BOTS_STORE=redis the bots served are the store's, read at start.
    served = app.get(BotRegistry).size;
  } catch (error) {
    log.fatal(`Start-up failed: ${errorMessage(error)}`);
    process.exit(1);
  }
  log.info(
    `Receiving ${served} bot(s) on ${tls ? 'https' : 'http'}://${settings.WEBHOOK_BIND}:${settings.WEBHOOK_PORT}`,
  );
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(knownSecrets.scrub(`Start-up failed: ${errorMessage(error)}\n`));
  process.exit(1);
});
