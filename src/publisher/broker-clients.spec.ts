import { createServer } from 'node:net';
import { jest } from '@jest/globals';
import { ClientMqtt, type ClientProxy } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { lastValueFrom } from 'rxjs';
import { ReceiverConfigModule } from '../config/config.module.js';
import { loadConfig } from '../config/load-settings.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { UPDATE_PUBLISHERS } from './publisher.constants.js';
import type { UpdatePublisher } from './publisher.interface.js';
import { PublisherModule } from './publisher.module.js';
import { AmqpConfirmClient } from './targets/amqp/amqp.client.js';
import { AMQP_CLIENT } from './targets/amqp/amqp.constants.js';
import { EmbeddedMqttBroker } from './targets/mqtt/embedded-mqtt-broker.js';
import { MQTT_CLIENT } from './targets/mqtt/mqtt.constants.js';
import { NatsStreamClient } from './targets/nats/nats.client.js';
import { NATS_CLIENT } from './targets/nats/nats.constants.js';

/** A loopback port nothing listens on: a broker that is down, refusing at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Closed {
  readonly what: string;
  /** Whether the HTTP server still took connections when it was closed. */
  readonly serverListening: boolean;
}

/**
 * Boots PublisherModule on Fastify with these settings, listening, then closes the app, and
 * reports every close() of the connection classes named, in order.
 */
async function bootAndClose(
  env: Record<string, string>,
  watched: Record<string, { prototype: { close(): unknown } }>,
  whileUp: (app: NestFastifyApplication) => Promise<void> = () => Promise.resolve(),
): Promise<Closed[]> {
  const config = loadConfig({
    ENV_FILE: '/nonexistent/.env',
    TELEGRAM_TOKEN: '777001:AAH_lifecycle-test-token',
    TELEGRAM_SET_WEBHOOK: 'false',
    TELEGRAM_DELETE_WEBHOOK: 'false',
    WEBHOOK_SECRET: 'lifecycle_secret',
    PUBLISH_TIMEOUT_MS: '1000',
    ...env,
  });
  const closed: Closed[] = [];
  let serverListening = (): boolean => false;
  // Before the module is made: ClientsModule takes the client's close() as its shutdown hook then.
  const spies = Object.entries(watched).map(([what, type]) => {
    const close = type.prototype.close;
    return jest.spyOn(type.prototype, 'close').mockImplementation(function (this: unknown) {
      closed.push({ what, serverListening: serverListening() });
      return close.call(this);
    });
  });
  const moduleRef = await Test.createTestingModule({
    imports: [
      ReceiverConfigModule.forRoot(config),
      MetricsModule.forRoot(false),
      PublisherModule.forRoot(config),
    ],
  })
    // The clients log the refused connections: expected here.
    .setLogger({ log: () => undefined, warn: () => undefined, error: () => undefined })
    .compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
    logger: false,
  });
  serverListening = () => app.getHttpServer().listening;
  await app.listen(0, '127.0.0.1');
  try {
    await whileUp(app);
  } finally {
    await app.close();
    for (const spy of spies) spy.mockRestore();
  }
  return closed;
}

describe('broker clients: Nest owns their lifecycle', () => {
  it.each([
    ['RabbitMQ', 'AMQP_URL', 'amqp://guest:guest@127.0.0.1', AMQP_CLIENT, AmqpConfirmClient, 'amqp'],
    ['NATS', 'NATS_URL', 'nats://127.0.0.1', NATS_CLIENT, NatsStreamClient, 'nats'],
  ] as const)(
    '%s: one client from ClientsModule, connected at boot, closed once after the HTTP server stopped',
    async (_broker, setting, url, token, type, name) => {
      const connect = jest.spyOn(type.prototype, 'connect');
      let client: ClientProxy | undefined;
      const closed = await bootAndClose(
        { [setting]: `${url}:${await closedPort()}` },
        { client: type },
        (app) => {
          client = app.get<ClientProxy>(token);
          expect(client).toBeInstanceOf(type);
          // Boot tried to connect, without waiting for the broker to come up.
          expect(connect).toHaveBeenCalled();
          const publisher = app.get<UpdatePublisher[]>(UPDATE_PUBLISHERS).find((p) => p.name === name);
          expect(publisher?.health()).toMatchObject({ up: false });
          return Promise.resolve();
        },
      );
      connect.mockRestore();
      // Closed by ClientsModule alone: once, and only once the server took no more requests.
      expect(closed).toEqual([{ what: 'client', serverListening: false }]);
      await expect(client?.connect()).rejects.toThrow(/client is closed/);
    },
  );

  it('RabbitMQ and NATS together: a client each, each closed once', async () => {
    const closed = await bootAndClose(
      {
        AMQP_URL: `amqp://127.0.0.1:${await closedPort()}`,
        NATS_URL: `nats://127.0.0.1:${await closedPort()}`,
      },
      { amqp: AmqpConfirmClient, nats: NatsStreamClient },
      (app) => {
        expect(app.get(AMQP_CLIENT)).toBeInstanceOf(AmqpConfirmClient);
        expect(app.get(NATS_CLIENT)).toBeInstanceOf(NatsStreamClient);
        return Promise.resolve();
      },
    );
    expect(closed.map((c) => c.what).sort()).toEqual(['amqp', 'nats']);
  });

  it('refuses send(): RabbitMQ and NATS take events (emit) only', async () => {
    const amqp = new AmqpConfirmClient({ url: 'amqp://127.0.0.1:1', exchange: 'x', publishTimeoutMs: 1000 });
    const nats = new NatsStreamClient({
      url: 'nats://127.0.0.1:1',
      jetstream: false,
      stream: 's',
      subjects: 's.*',
      publishTimeoutMs: 1000,
    });
    // As if connected: send() gets as far as the transport.
    jest.spyOn(amqp, 'connect').mockResolvedValue(undefined);
    jest.spyOn(nats, 'connect').mockResolvedValue(undefined as never);
    await expect(lastValueFrom(amqp.send('pattern', {}))).rejects.toThrow('send() is not supported');
    await expect(lastValueFrom(nats.send('pattern', {}))).rejects.toThrow('send() is not supported');
    await Promise.all([amqp.close(), nats.close()]);
  });

  it('MQTT on the embedded broker: the client, then the broker, each closed once after the HTTP server stopped', async () => {
    const closed = await bootAndClose(
      { MQTT_EMBEDDED_PORT: String(await closedPort()), WEBHOOK_BIND: '127.0.0.1' },
      { client: ClientMqtt, broker: EmbeddedMqttBroker },
      (app) => {
        expect(app.get(MQTT_CLIENT)).toBeInstanceOf(ClientMqtt);
        return Promise.resolve();
      },
    );
    expect(closed).toEqual([
      { what: 'client', serverListening: false },
      { what: 'broker', serverListening: false },
    ]);
  });
});
