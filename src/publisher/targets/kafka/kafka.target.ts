import { readFileSync } from 'node:fs';
import { errorMessage } from '../../../common/error-message.js';
import type { ReceiverConfig } from '../../../config/load-settings.js';
import { connectedTarget, type BrokerTarget } from '../../broker-target.js';
import { KafkaConnection, type KafkaConnectionOptions } from './kafka.connection.js';
import { KafkaPublisher } from './kafka.publisher.js';

/** Kafka (KAFKA_BROKERS): a KafkaJS producer, published to by KafkaPublisher. */
export function kafkaTarget(): BrokerTarget {
  return connectedTarget(
    KafkaConnection,
    'Kafka',
    KafkaPublisher,
    (settings) => new KafkaConnection(kafkaOptions(settings)),
  );
}

/** The client's options from the settings: bootstrap brokers, TLS and SASL as managed Kafka needs them. */
export function kafkaOptions(settings: ReceiverConfig['settings']): KafkaConnectionOptions {
  const mechanism = settings.KAFKA_SASL_MECHANISM;
  const username = settings.KAFKA_SASL_USERNAME ?? '';
  const password = settings.KAFKA_SASL_PASSWORD ?? '';
  return {
    brokers: (settings.KAFKA_BROKERS ?? []).map(({ host, port }) => `${host}:${port}`),
    clientId: settings.KAFKA_CLIENT_ID,
    ssl: settings.KAFKA_TLS ? tlsOptions(settings.KAFKA_TLS_CA) : undefined,
    sasl: mechanism ? { mechanism, username, password } : undefined,
    publishTimeoutMs: settings.PUBLISH_TIMEOUT_MS,
  };
}

/** TLS against the system's CAs, or against KAFKA_TLS_CA (a PEM file: a private CA, as Aiven's). */
function tlsOptions(caFile: string | undefined): true | { ca: Buffer[] } {
  if (caFile === undefined) return true;
  try {
    return { ca: [readFileSync(caFile)] };
  } catch (error) {
    throw new Error(`KAFKA_TLS_CA cannot be read (${errorMessage(error)}): ${caFile}`);
  }
}
