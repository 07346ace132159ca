import { Module, type DynamicModule, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { TelegramUpdateDeserializer } from './update.deserializer.js';
import { UPDATE_HANDLER, UpdatesController, type UpdateHandler } from './updates.controller.js';

@Module({})
class WorkerModule {
  static forRoot(handler: UpdateHandler): DynamicModule {
    return {
      module: WorkerModule,
      controllers: [UpdatesController],
      providers: [{ provide: UPDATE_HANDLER, useValue: handler }],
    };
  }
}

export type NestWorkerOptions =
  /** A durable queue bound to the receiver's exchange (AMQP_EXCHANGE) for the handled routing keys. */
  | { transport: 'rmq'; url: string; exchange?: string; queue?: string }
  /** Core NATS subscription, shared by the workers of one queue group. JetStream messages reach it too. */
  | { transport: 'nats'; url: string; queueGroup?: string }
  /** Redis pub/sub (lossy: only while subscribed). */
  | { transport: 'redis'; url: string };

function transportOptions(options: NestWorkerOptions): MicroserviceOptions {
  const deserializer = new TelegramUpdateDeserializer();
  switch (options.transport) {
    case 'rmq':
      return {
        transport: Transport.RMQ,
        options: {
          urls: [options.url],
          queue: options.queue ?? 'telegram-updates',
          queueOptions: { durable: true },
          exchange: options.exchange ?? 'telegram',
          exchangeType: 'topic',
          // Binds the queue to the exchange with each handler's pattern as routing key.
          wildcards: true,
          noAck: false,
          prefetchCount: 16,
          deserializer,
        },
      };
    case 'nats':
      return {
        transport: Transport.NATS,
        options: { servers: [options.url], queue: options.queueGroup ?? 'telegram-workers', deserializer },
      };
    case 'redis': {
      const url = new URL(options.url);
      return {
        transport: Transport.REDIS,
        options: {
          host: url.hostname,
          port: Number(url.port || 6379),
          ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
          wildcards: true,
          deserializer,
        },
      };
    }
  }
}

/** Starts a Nest microservice that hands every text message update to `handler`. */
export async function startNestWorker(
  options: NestWorkerOptions,
  handler: UpdateHandler,
): Promise<INestMicroservice> {
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(WorkerModule.forRoot(handler), {
    ...transportOptions(options),
    logger: ['error', 'warn'],
  });
  await app.listen();
  return app;
}
