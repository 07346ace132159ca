import { Logger } from '@nestjs/common';
import { ClientMqtt } from '@nestjs/microservices';
import { redactUrl } from '../../../common/redact.js';
import { RECEIVER_CONFIG } from '../../../config/config.constants.js';
import type { ReceiverConfig } from '../../../config/load-settings.js';
import type { BrokerTarget } from '../../broker-target.js';
import type { EmbeddedMqttBroker } from './embedded-mqtt-broker.js';
import { MqttPublisher } from './mqtt.publisher.js';
import { EMBEDDED_BROKER, MQTT_CLIENT } from '../../publisher.constants.js';

/** MQTT (MQTT_URL, or the embedded broker): Nest's `ClientMqtt`, published to by MqttPublisher. */
export function mqttTarget(): BrokerTarget {
  return {
    providers: [
      {
        provide: MQTT_CLIENT,
        inject: [RECEIVER_CONFIG, { token: EMBEDDED_BROKER, optional: true }],
        useFactory: async (
          { settings }: ReceiverConfig,
          embedded?: EmbeddedMqttBroker,
        ): Promise<ClientMqtt> => {
          const logger = new Logger('MqttConnection');
          const url = embedded ? `mqtt://127.0.0.1:${embedded.port}` : (settings.MQTT_URL as string);
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
    connection: { token: MQTT_CLIENT, name: 'MQTT' },
  };
}
