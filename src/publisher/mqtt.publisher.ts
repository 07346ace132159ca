import { Inject, Injectable } from '@nestjs/common';
import { type ClientMqtt, MqttRecord, type Serializer } from '@nestjs/microservices';
import type { MqttClient } from 'mqtt';
import { lastValueFrom } from 'rxjs';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { MQTT_CLIENT } from './publisher.constants.js';
import type {
  InboundUpdate,
  PublisherHealth,
  PublishResult,
  UpdatePublisher,
} from './publisher.interface.js';
import { TopicTemplate } from './topic-template.js';

/**
 * Sends the payload as-is instead of Nest's `{pattern, data}` envelope, so consumers in any
 * language read the plain Update JSON.
 */
export class RawPayloadSerializer implements Serializer {
  serialize(packet: { data?: unknown }): unknown {
    const data = packet.data instanceof MqttRecord ? (packet.data.data as unknown) : packet.data;
    return data;
  }
}

/** QoS 1: the publish is confirmed when the broker's PUBACK arrives. */
const QOS1 = { qos: 1 as const };

/** MQTT through Nest's `ClientMqtt`, topic from MQTT_TOPIC (or the bot's `mqtt_topic`). */
@Injectable()
export class MqttPublisher implements UpdatePublisher {
  readonly name = 'mqtt';
  readonly types?: ReadonlySet<string>;
  private readonly topic: TopicTemplate;
  private readonly perBotTopics = new Map<number, TopicTemplate>();

  constructor(
    @Inject(MQTT_CLIENT) private readonly client: ClientMqtt,
    @Inject(RECEIVER_CONFIG) config: ReceiverConfig,
  ) {
    this.topic = new TopicTemplate(config.settings.MQTT_TOPIC);
    if (config.settings.MQTT_TYPES) this.types = new Set(config.settings.MQTT_TYPES);
    for (const bot of config.bots) {
      if (bot.mqttTopic) this.perBotTopics.set(bot.index, new TopicTemplate(bot.mqttTopic));
    }
  }

  async publish(update: InboundUpdate): Promise<PublishResult> {
    const template = (update.bot.mqttTopic && this.perBotTopics.get(update.bot.index)) || this.topic;
    const topic = template.render(update.bot.idText, update.type);
    // emit() is hot and drops its errors unless subscribed: wait for the PUBACK.
    await lastValueFrom(this.client.emit(topic, new MqttRecord(update.payload, QOS1)), {
      defaultValue: undefined,
    });
    return 'published';
  }

  health(): PublisherHealth {
    let connected = false;
    try {
      connected = this.client.unwrap<MqttClient>().connected;
    } catch {
      connected = false;
    }
    return connected ? { up: true } : { up: false, reason: 'mqtt client is not connected' };
  }
}
