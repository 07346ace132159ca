import { clientProxyTarget, type BrokerTarget } from '../../broker-target.js';
import { wildcardPattern } from '../../topic-template.js';
import { NatsStreamClient, type NatsStreamClientOptions } from './nats.client.js';
import { NATS_CLIENT } from './nats.constants.js';
import { NatsPublisher } from './nats.publisher.js';

/** NATS (NATS_URL): JetStream, or core NATS with NATS_JETSTREAM=false, published to by NatsPublisher. */
export function natsTarget(): BrokerTarget {
  return clientProxyTarget(
    NATS_CLIENT,
    NatsStreamClient,
    NatsPublisher,
    (settings): NatsStreamClientOptions => ({
      url: settings.NATS_URL as string,
      jetstream: settings.NATS_JETSTREAM,
      stream: settings.NATS_STREAM,
      subjects: wildcardPattern(settings.NATS_SUBJECT, '.', '*'),
      publishTimeoutMs: settings.PUBLISH_TIMEOUT_MS,
    }),
  );
}
