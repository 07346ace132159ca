import { Logger, type Provider } from '@nestjs/common';
import { ClientMqtt } from '@nestjs/microservices';
import { redactUrl } from '../../../common/redact.js';
import { RECEIVER_CONFIG } from '../../../config/config.constants.js';
import type { ReceiverConfig } from '../../../config/load-settings.js';
import type { BrokerTarget } from '../../broker-target.js';
import { EmbeddedMqttBroker } from './embedded-mqtt-broker.js';
import { EMBEDDED_BROKER, MQTT_CLIENT } from './mqtt.constants.js';
import { MqttPublisher } from './mqtt.publisher.js';

/**
 * MQTT (MQTT_URL, or with `embedded` an in-process broker): Nest's `ClientMqtt`, published to by
 * MqttPublisher. Not registered with ClientsModule: the embedded broker must close after the
 * client publishing to it, and ClientsModule would close the client after this module's own
 * providers — so PublisherModule closes both, in that order.
 */
export function mqttTarget(embedded: boolean): BrokerTarget {
  const client = { token: MQTT_CLIENT, name: 'MQTT' };
  return {
    imports: [],
    providers: [
      ...(embedded ? [embeddedBroker()] : []),
      {
        provide: MQTT_CLIENT,
        inject: [RECEIVER_CONFIG, { token: EMBEDDED_BROKER, optional: true }],
        useFactory: async (
          { settings }: ReceiverConfig,
          broker?: EmbeddedMqttBroker,
        ): Promise<ClientMqtt> => {
          const logger = new Logger('MqttConnection');
          const url = broker ? `mqtt://127.0.0.1:${broker.port}` : (settings.MQTT_URL as string);
          const client = new ClientMqtt({
            url,
            // mqtt.js reconnects this one client for the life of the process; MqttPublisher
            // publishes on it and never calls connect() again (with 0, Nest drops the client
            // after the first disconnect and only a new connect() would make another).
            reconnectPeriod: 1000,
            connectTimeout: 5000,
            // Nothing is queued while offline: a publish then fails fast and Telegram retries
            // (MqttPublisher publishes QoS 1 only while connected, and fails those a drop leaves
            // unconfirmed).
            queueQoSZero: false,
          });
          await client.connect().catch((error: unknown) => {
            logger.error(`MQTT broker at ${redactUrl(url)} is unavailable: ${String(error)}; reconnecting`);
          });
          return client;
        },
      },
      MqttPublisher,
    ],
    publisher: MqttPublisher,
    // After the MQTT client that publishes to it.
    connections: embedded ? [client, { token: EMBEDDED_BROKER, name: 'the embedded MQTT broker' }] : [client],
  };
}

/** The embedded broker (aedes, loaded only then) on WEBHOOK_BIND:MQTT_EMBEDDED_PORT. */
function embeddedBroker(): Provider {
  return {
    provide: EMBEDDED_BROKER,
    inject: [RECEIVER_CONFIG],
    useFactory: ({ settings }: ReceiverConfig) =>
      EmbeddedMqttBroker.start(settings.WEBHOOK_BIND, settings.MQTT_EMBEDDED_PORT),
  };
}
