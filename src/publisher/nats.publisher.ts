import { Inject, Injectable } from '@nestjs/common';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { describeError } from './background-reconnect.js';
import { NatsStreamClient } from './nats.client.js';
import type {
  InboundUpdate,
  PublisherHealth,
  PublishResult,
  UpdatePublisher,
} from './publisher.interface.js';
import { TopicTemplate } from './topic-template.js';

/**
 * NATS on subject NATS_SUBJECT (default `telegram.{bot}.{type}`). With JetStream (the default)
 * confirmed by the stream's PubAck, `Nats-Msg-Id` = `<bot id>:<update_id>` so JetStream's own
 * duplicate window drops a redelivered update too. With NATS_JETSTREAM=false, core NATS: lossy,
 * confirmed once the server has the message, delivered only to subscribers online at that moment.
 * Headers `bot`, `update_id` and `type` go with every message.
 */
@Injectable()
export class NatsPublisher implements UpdatePublisher {
  readonly name = 'nats';
  readonly types?: ReadonlySet<string>;
  private readonly subject: TopicTemplate;
  private readonly useJetStream: boolean;

  constructor(
    private readonly client: NatsStreamClient,
    @Inject(RECEIVER_CONFIG) config: ReceiverConfig,
  ) {
    this.subject = new TopicTemplate(config.settings.NATS_SUBJECT);
    this.useJetStream = config.settings.NATS_JETSTREAM;
    if (config.settings.NATS_TYPES) this.types = new Set(config.settings.NATS_TYPES);
  }

  async publish(update: InboundUpdate): Promise<PublishResult> {
    const bot = update.bot.idText;
    const subject = this.subject.render(bot, update.type);
    const headers = natsHeaders();
    headers.set('bot', bot);
    headers.set('update_id', String(update.updateId));
    headers.set('type', update.type);
    try {
      if (!this.useJetStream) {
        await this.client.publishCore(subject, update.payload, headers);
        return 'published';
      }
      const ack = await this.client.publishToStream(
        subject,
        update.payload,
        headers,
        `${bot}:${update.updateId}`,
      );
      return ack.duplicate ? 'duplicate' : 'published';
    } catch (error) {
      // ClientNats rejects with a bare string while reconnecting: give PublishService an Error.
      throw new Error(describeError(error));
    }
  }

  health(): PublisherHealth {
    return this.client.health();
  }
}
