import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import { nestLogLevels } from './common/log-levels.js';
import { ConfigurationError, type ReceiverConfig } from './config/load-settings.js';
import { configFromProcess } from './config/process-config.js';

async function bootstrap(): Promise<void> {
  const logger = new Logger('Bootstrap');
  let config: ReceiverConfig;
  try {
    config = configFromProcess();
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    logger.error(error.message);
    process.exit(1);
  }
  const { settings } = config;
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({ config }),
    new FastifyAdapter({ logger: false }),
    { logger: nestLogLevels(settings.LOG_LEVEL), abortOnError: false },
  );
  // On SIGTERM/SIGINT: stop taking updates, drain, deleteWebhook if enabled, close each
  // connection once, and exit 0.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  await app.listen(settings.WEBHOOK_PORT, settings.WEBHOOK_BIND);
  logger.log(`Receiving ${config.bots.length} bot(s) on ${settings.WEBHOOK_BIND}:${settings.WEBHOOK_PORT}`);
}

bootstrap().catch((error: unknown) => {
  new Logger('Bootstrap').error((error as Error).message ?? String(error));
  process.exit(1);
});
