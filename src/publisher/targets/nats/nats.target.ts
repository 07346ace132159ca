import { connectedTarget, type BrokerTarget } from '../../broker-target.js';
import { NatsStreamClient } from './nats.client.js';
import { NatsPublisher } from './nats.publisher.js';
import { wildcardPattern } from '../../topic-template.js';

/** NATS (NATS_URL): JetStream, or core NATS with NATS_JETSTREAM=false, published to by NatsPublisher. */
export function natsTarget(): BrokerTarget {
  return connectedTarget(
    NatsStreamClient,
    'NATS',
    NatsPublisher,
    (settings) =>
      new NatsStreamClient({
        url: settings.NATS_URL as string,
        jetstream: settings.NATS_JETSTREAM,
        stream: settings.NATS_STREAM,
        subjects: wildcardPattern(settings.NATS_SUBJECT, '.', '*'),
        publishTimeoutMs: settings.PUBLISH_TIMEOUT_MS,
      }),
  );
}
