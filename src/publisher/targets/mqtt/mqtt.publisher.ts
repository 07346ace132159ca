import { Inject, Injectable } from '@nestjs/common';
import type { ClientMqtt } from '@nestjs/microservices';
import type { MqttClient } from 'mqtt';
import { RECEIVER_CONFIG } from '../../../config/config.constants.js';
import type { ReceiverConfig } from '../../../config/load-settings.js';
import { describeError } from '../../background-reconnect.js';
import { codePoint, longerThanBytes } from '../../broker-target.js';
import type {
  InboundUpdate,
  PublisherHealth,
  PublishResult,
  UpdatePublisher,
} from '../../publisher.interface.js';
import { BotTopics, TopicTemplate } from '../../topic-template.js';
import { MQTT_CLIENT } from './mqtt.constants.js';

/** QoS 1: the publish is confirmed when the broker's PUBACK arrives. */
const QOS1 = { qos: 1 as const };

/** A topic name is a length-prefixed UTF-8 string in the PUBLISH packet (MQTT 3.1.1, 1.5.3). */
const MAX_TOPIC_BYTES = 65_535;

/**
 * Topic levels a broker takes: the embedded broker (aedes) drops a client publishing to more
 * than 100, Mosquitto to more than about 200. The lower one holds for both.
 */
const MAX_TOPIC_LEVELS = 100;

/**
 * Characters a broker drops the client for, in a topic it is sent to publish on: the wildcards
 * `+` and `#` (subscriptions only), and what MQTT's UTF-8 rules forbid or discourage — NUL and the
 * other control characters, and Unicode noncharacters (Mosquitto refuses all of them).
 */
const REFUSED_TOPIC_CHARACTER = /[+#\p{Cc}\p{Noncharacter_Code_Point}]/u;

/**
 * Why a broker would refuse to take a PUBLISH on `topic` — by dropping the connection, which on
 * MQTT 3.1.1 is its only way to refuse — or undefined when it takes it. Checked before sending, so
 * such an update fails alone instead of taking down the connection every update shares. The topic
 * itself is not quoted: it can be tens of kilobytes of someone else's input.
 */
export function topicRefusal(topic: string): string | undefined {
  if (topic.length === 0) return 'the topic is empty';
  if (longerThanBytes(topic, MAX_TOPIC_BYTES)) {
    return `the topic is ${Buffer.byteLength(topic)} bytes long; MQTT allows ${MAX_TOPIC_BYTES}`;
  }
  const character = REFUSED_TOPIC_CHARACTER.exec(topic)?.[0];
  if (character === '+' || character === '#') {
    return `the topic contains the wildcard ${character}, which only subscriptions may use`;
  }
  if (character !== undefined) return `the topic contains ${codePoint(character)}, which brokers refuse`;
  // Fewer characters than levels allowed cannot hold too many levels: skip the count.
  if (topic.length >= MAX_TOPIC_LEVELS) {
    let levels = 1;
    for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 0x2f) levels++;
    if (levels > MAX_TOPIC_LEVELS) return `the topic has ${levels} levels; brokers allow ${MAX_TOPIC_LEVELS}`;
  }
  return undefined;
}

/**
 * Fails every QoS 1 publish of `mqtt` still waiting for its PUBACK, and takes it out of the
 * client's outgoing store. mqtt.js keeps such a publish in that store when the connection drops
 * and sends it again first thing after every reconnect, before it reports the connection as up
 * (`_onConnect` in mqtt.js's client.js); a message the broker drops the client for would thus be
 * sent, and the client dropped, on every reconnect, and nothing else published again. Failed here,
 * its update is answered 503 and Telegram sends it again; one the broker did store just before the
 * drop is then published once more, the edge of QoS 1 that consumers deduplicate on update_id.
 */
function failUnconfirmed(mqtt: MqttClient): void {
  for (const key of Object.keys(mqtt.outgoing)) {
    const messageId = Number(key);
    // removeOutgoingMessage calls the publish's callback with an error (mqtt.js's public API).
    if (mqtt.outgoing[messageId]?.cmd === 'publish') mqtt.removeOutgoingMessage(messageId);
  }
}

/**
 * MQTT through Nest's `ClientMqtt` (the connection: reconnects, status, close), topic from
 * MQTT_TOPIC (or the bot's `mqtt_topic`). Publishes on the mqtt.js client itself, only while it
 * is connected: `emit()` would hand a publish made just as the connection dropped to mqtt.js's
 * offline store, to be sent after a reconnect, long after Telegram got its 503.
 */
@Injectable()
export class MqttPublisher implements UpdatePublisher {
  readonly name = 'mqtt';
  readonly types?: ReadonlySet<string>;
  private readonly topics: BotTopics;
  /** The mqtt.js client whose dropped connections fail its unconfirmed publishes. */
  private watched?: MqttClient;

  constructor(
    @Inject(MQTT_CLIENT) private readonly client: ClientMqtt,
    @Inject(RECEIVER_CONFIG) config: ReceiverConfig,
  ) {
    this.topics = new BotTopics(new TopicTemplate(config.settings.MQTT_TOPIC), (bot) => bot.mqttTopic);
    if (config.settings.MQTT_TYPES) this.types = new Set(config.settings.MQTT_TYPES);
  }

  publish(update: InboundUpdate): Promise<PublishResult> {
    const topic = this.topics.of(update.bot).render(update.bot.idText, update.type);
    const refusal = topicRefusal(topic);
    if (refusal !== undefined) return Promise.reject(new Error(`not sent: ${refusal}`));
    const mqtt = this.connection();
    if (!mqtt?.connected) return Promise.reject(new Error('mqtt client is not connected'));
    return new Promise((resolve, reject) => {
      mqtt.publish(topic, update.payload, QOS1, (error) => {
        if (!error) resolve('published');
        // Failed by failUnconfirmed: the connection dropped before the broker confirmed.
        else if (!mqtt.connected)
          reject(new Error('the connection closed before the broker confirmed (PUBACK)'));
        else reject(new Error(describeError(error)));
      });
    });
  }

  health(): PublisherHealth {
    return this.connection()?.connected
      ? { up: true }
      : { up: false, reason: 'mqtt client is not connected' };
  }

  /** The mqtt.js client, watched for dropped connections; undefined before the first connect() or after close(). */
  private connection(): MqttClient | undefined {
    let mqtt: MqttClient;
    try {
      mqtt = this.client.unwrap<MqttClient>();
    } catch {
      return undefined;
    }
    if (mqtt !== this.watched) {
      this.watched = mqtt;
      // Registered after mqtt.js's own listener, which has marked the client disconnected by then.
      mqtt.on('close', () => failUnconfirmed(mqtt));
    }
    return mqtt;
  }
}
