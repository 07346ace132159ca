import { Logger } from '@nestjs/common';
import type { Aedes } from 'aedes';
import { createServer, type Server } from 'node:net';
import { once } from 'node:events';

/**
 * An in-process MQTT broker (aedes) for running with no infrastructure: updates live in memory
 * only, so it is for development and demos, never production.
 */
export class EmbeddedMqttBroker {
  private readonly logger = new Logger(EmbeddedMqttBroker.name);

  private constructor(
    private readonly broker: Aedes,
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(bind: string, port: number): Promise<EmbeddedMqttBroker> {
    // Loaded only when used: a service with a real broker never carries aedes.
    const { Aedes: AedesBroker } = await import('aedes');
    const broker = await AedesBroker.createBroker();
    const server = createServer(broker.handle);
    server.listen(port, bind);
    try {
      await once(server, 'listening');
    } catch (error) {
      broker.close();
      throw new Error(
        `MQTT_EMBEDDED_PORT ${port} cannot be used for the embedded MQTT broker: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    const address = server.address();
    const actual = typeof address === 'object' && address ? address.port : port;
    const instance = new EmbeddedMqttBroker(broker, server, actual);
    instance.logger.warn(
      `No REDIS_URL or MQTT_URL is set: updates go to an EMBEDDED MQTT broker on ${bind}:${actual}. ` +
        'They live in memory only and are lost on restart — set REDIS_URL or MQTT_URL for production.',
    );
    return instance;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.broker.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
