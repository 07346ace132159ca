import { clientProxyTarget, type BrokerTarget } from '../../broker-target.js';
import { AmqpConfirmClient, type AmqpConfirmClientOptions } from './amqp.client.js';
import { AMQP_CLIENT } from './amqp.constants.js';
import { AmqpPublisher } from './amqp.publisher.js';

/** RabbitMQ (AMQP_URL): a confirm channel, published to by AmqpPublisher. */
export function amqpTarget(): BrokerTarget {
  return clientProxyTarget(
    AMQP_CLIENT,
    AmqpConfirmClient,
    AmqpPublisher,
    (settings): AmqpConfirmClientOptions => ({
      url: settings.AMQP_URL as string,
      exchange: settings.AMQP_EXCHANGE,
      publishTimeoutMs: settings.PUBLISH_TIMEOUT_MS,
    }),
  );
}
