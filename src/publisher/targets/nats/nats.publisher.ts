import { Inject, Injectable } from '@nestjs/common';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { RECEIVER_CONFIG } from '../../../config/config.constants.js';
import type { ReceiverConfig } from '../../../config/load-settings.js';
import { describeError } from '../../background-reconnect.js';
import { codePoint, longerThanBytes } from '../../broker-target.js';
import { NatsStreamClient } from './nats.client.js';
import { NATS_CLIENT } from './nats.constants.js';
import type {
  InboundUpdate,
  PublisherHealth,
  PublishResult,
  UpdatePublisher,
} from '../../publisher.interface.js';
import { TopicTemplate } from '../../topic-template.js';

/**
 * The longest subject sent. The server closes a connection whose protocol line (`HPUB <subject>
 * <reply inbox> <sizes>`) exceeds its max_control_line, 4096 bytes by default, which it does not
 * announce to clients; this leaves room for the reply inbox and the sizes.
 */
const MAX_SUBJECT_BYTES = 4096 - 256;

/** Whitespace ends a subject in the protocol; `*` and `>` are wildcards; control characters are a mistake. */
const REFUSED_SUBJECT_CHARACTER = /[\s\p{Cc}*>]/u;

/**
 * Why `subject` must not be published, or undefined. The server drops the connection every update
 * shares for an over-long subject, and takes wildcards and control characters where no consumer
 * expects them; the client refuses whitespace itself. Checked before sending, so such an update
 * fails alone. `tokens`, when given, is how many `.`-separated tokens the stream captures. The
 * subject itself is not quoted: it can be kilobytes of someone else's input.
 */
export function subjectRefusal(subject: string, tokens?: number): string | undefined {
  if (longerThanBytes(subject, MAX_SUBJECT_BYTES)) {
    return `the subject is ${Buffer.byteLength(subject)} bytes long; at most ${MAX_SUBJECT_BYTES} fit a NATS protocol line`;
  }
  const character = REFUSED_SUBJECT_CHARACTER.exec(subject)?.[0];
  if (character === '*' || character === '>') {
    return `the subject contains the wildcard ${character}, which only subscriptions may use`;
  }
  if (character !== undefined) return `the subject contains ${codePoint(character)}`;
  if (subject.length === 0 || subject.startsWith('.') || subject.endsWith('.') || subject.includes('..')) {
    return 'the subject has an empty token';
  }
  if (tokens !== undefined) {
    let count = 1;
    for (let i = 0; i < subject.length; i++) if (subject.charCodeAt(i) === 0x2e) count++;
    // Nothing would store it: JetStream would answer "no responders", as for a deleted stream.
    if (count !== tokens) return `the subject has ${count} tokens; the stream captures subjects of ${tokens}`;
  }
  return undefined;
}

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
  /** Tokens of the subjects the stream captures (NATS_SUBJECT's), checked in JetStream mode. */
  private readonly streamTokens?: number;

  constructor(
    @Inject(NATS_CLIENT) private readonly client: NatsStreamClient,
    @Inject(RECEIVER_CONFIG) config: ReceiverConfig,
  ) {
    this.subject = new TopicTemplate(config.settings.NATS_SUBJECT);
    this.useJetStream = config.settings.NATS_JETSTREAM;
    // The stream captures the template with each {bot}/{type} token a wildcard (nats.target.ts).
    if (this.useJetStream) this.streamTokens = config.settings.NATS_SUBJECT.split('.').length;
    if (config.settings.NATS_TYPES) this.types = new Set(config.settings.NATS_TYPES);
  }

  async publish(update: InboundUpdate): Promise<PublishResult> {
    const bot = update.bot.idText;
    const subject = this.subject.render(bot, update.type);
    const refusal = subjectRefusal(subject, this.streamTokens);
    if (refusal !== undefined) throw new Error(`not sent: ${refusal}`);
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
      // A client may reject with a bare string: give PublishService an Error.
      throw new Error(describeError(error));
    }
  }

  health(): PublisherHealth {
    return this.client.health();
  }
}
