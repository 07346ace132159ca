import { AmqpConfirmClient } from './amqp.client.js';
import { AmqpPublisher } from './amqp.publisher.js';
import { connectedTarget, type BrokerTarget } from '../../broker-target.js';

/** RabbitMQ (AMQP_URL): a confirm channel, published to by AmqpPublisher. */
export function amqpTarget(): BrokerTarget {
  return connectedTarget(
    AmqpConfirmClient,
    'RabbitMQ',
    AmqpPublisher,
    (settings) =>
      new AmqpConfirmClient({
        url: settings.AMQP_URL as string,
        exchange: settings.AMQP_EXCHANGE,
        publishTimeoutMs: settings.PUBLISH_TIMEOUT_MS,
      }),
  );
}
