import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { BotRegistry } from '../../../bots/bot-registry.service.js';
import { RECEIVER_CONFIG } from '../../../config/config.constants.js';
import type { ReceiverConfig } from '../../../config/load-settings.js';
import type {
  InboundUpdate,
  PublisherHealth,
  PublishResult,
  UpdatePublisher,
} from '../../publisher.interface.js';
import { BotTopics, TopicTemplate } from '../../topic-template.js';
import { KafkaConnection } from './kafka.connection.js';
import { recordKeyId } from './record-key.js';

/**
 * Kafka: each update is one record on topic KAFKA_TOPIC (default `telegram.{bot}`, or the bot's
 * `kafka_topic`), acknowledged by every in-sync replica (acks=all) before Telegram gets its 200.
 * The value is the payload (the exact Update bytes, or the envelope); headers `bot`, `update_id`,
 * `type`; the key `<bot>:<chat id>` — or `<bot>:<user id>` for kinds without a chat, `<bot>` for
 * kinds with neither — so a consumer group handles each chat's updates in order, as Telegram sends
 * them, and different chats in parallel.
 */
@Injectable()
export class KafkaPublisher implements UpdatePublisher, OnApplicationBootstrap {
  readonly name = 'kafka';
  readonly types?: ReadonlySet<string>;
  private readonly topics: BotTopics;

  constructor(
    private readonly connection: KafkaConnection,
    private readonly bots: BotRegistry,
    @Inject(RECEIVER_CONFIG) config: ReceiverConfig,
  ) {
    this.topics = new BotTopics(new TopicTemplate(config.settings.KAFKA_TOPIC), (bot) => bot.kafkaTopic);
    if (config.settings.KAFKA_TYPES) this.types = new Set(config.settings.KAFKA_TYPES);
  }

  /**
   * Checks, once getMe has told every bot's id, the topics known before any update arrives: each
   * bot's, unless its template names `{type}` (those, and the topics of bots added while running,
   * are checked at their first record).
   */
  async onApplicationBootstrap(): Promise<void> {
    const topics = new Set<string>();
    for (const bot of this.bots.all()) {
      const template = this.topics.of(bot.identity);
      if (!template.template.includes('{type}')) topics.add(template.render(bot.idText, ''));
    }
    await this.connection.expectTopics([...topics]);
  }

  publish(update: InboundUpdate): Promise<PublishResult> {
    const bot = update.bot.idText;
    const topic = this.topics.of(update.bot).render(bot, update.type);
    const id = recordKeyId(update.raw, update.type);
    return this.connection
      .send(topic, {
        key: id === undefined ? bot : `${bot}:${id}`,
        value: update.payload,
        headers: { bot, update_id: String(update.updateId), type: update.type },
      })
      .then(published);
  }

  health(): PublisherHealth {
    return this.connection.health();
  }
}

function published(): PublishResult {
  return 'published';
}
