import { EventEmitter } from 'node:events';
import { jest } from '@jest/globals';
import type { ClientMqtt } from '@nestjs/microservices';
import type { ReceiverConfig } from '../../../config/load-settings.js';
import { MqttPublisher, topicRefusal } from './mqtt.publisher.js';
import type { InboundUpdate } from '../../publisher.interface.js';
import { inboundUpdate } from '../../../../test/support/inbound-update.js';

const update = (type = 'message'): InboundUpdate => inboundUpdate(7, type);
const config = { settings: { MQTT_TOPIC: 'tg/{bot}/{type}' }, bots: [] } as unknown as ReceiverConfig;

type Callback = (error?: Error) => void;

/** The part of mqtt.js's MqttClient the publisher uses, behaving as mqtt.js 5 does. */
class FakeMqttClient extends EventEmitter {
  connected = true;
  outgoing: Record<number, { volatile: boolean; cmd: string; cb: Callback }> = {};
  private nextId = 1;
  readonly publish = jest.fn((_topic: string, _payload: Buffer, _options: unknown, cb: Callback) => {
    this.outgoing[this.nextId++] = { volatile: false, cmd: 'publish', cb };
  });
  removeOutgoingMessage(messageId: number): void {
    const entry = this.outgoing[messageId];
    delete this.outgoing[messageId];
    entry?.cb(new Error('Message removed'));
  }
  /** The broker dropped the connection: mqtt.js marks itself disconnected, then emits 'close'. */
  drop(): void {
    this.connected = false;
    this.emit('close');
  }
  ack(messageId: number): void {
    const entry = this.outgoing[messageId];
    delete this.outgoing[messageId];
    entry?.cb();
  }
}

function publisherWith(mqtt: FakeMqttClient): MqttPublisher {
  return new MqttPublisher({ unwrap: () => mqtt } as unknown as ClientMqtt, config);
}

describe('topicRefusal', () => {
  it.each([
    ['tg/42/message'],
    ['é'.repeat(32_767)],
    [Array.from({ length: 100 }, () => 'a').join('/')],
    // A lone surrogate goes out as U+FFFD, which brokers take.
    ['tg/42/a\ud800b'],
  ])('sends %#', (topic) => {
    expect(topicRefusal(topic)).toBeUndefined();
  });

  it.each([
    ['', 'the topic is empty'],
    ['tg/42/a/#', 'the topic contains the wildcard #, which only subscriptions may use'],
    ['tg/42/+', 'the topic contains the wildcard +, which only subscriptions may use'],
    ['tg/42/a\u0000b', 'the topic contains U+0000, which brokers refuse'],
    ['tg/42/a\tb', 'the topic contains U+0009, which brokers refuse'],
    ['tg/42/a\u007fb', 'the topic contains U+007F, which brokers refuse'],
    ['tg/42/a\u0085b', 'the topic contains U+0085, which brokers refuse'],
    ['tg/42/a\ufffeb', 'the topic contains U+FFFE, which brokers refuse'],
    ['tg/42/a\u{1ffff}b', 'the topic contains U+1FFFF, which brokers refuse'],
    ['é'.repeat(32_768), 'the topic is 65536 bytes long; MQTT allows 65535'],
    ['x'.repeat(70_000), 'the topic is 70000 bytes long; MQTT allows 65535'],
    [Array.from({ length: 101 }, () => 'a').join('/'), 'the topic has 101 levels; brokers allow 100'],
  ])('refuses %#: %s', (topic, reason) => {
    expect(topicRefusal(topic)).toBe(reason);
  });
});

describe('MqttPublisher', () => {
  it('publishes the payload at QoS 1 and resolves on the PUBACK', async () => {
    const mqtt = new FakeMqttClient();
    const sut = publisherWith(mqtt);
    const publishing = sut.publish(update());
    expect(mqtt.publish).toHaveBeenCalledWith(
      'tg/42/message',
      update().payload,
      { qos: 1 },
      expect.any(Function),
    );
    mqtt.ack(1);
    await expect(publishing).resolves.toBe('published');
  });

  it('fails an update whose topic a broker would drop the connection for, without sending it', async () => {
    const mqtt = new FakeMqttClient();
    const sut = publisherWith(mqtt);
    await expect(sut.publish(update('a/#'))).rejects.toThrow(
      'not sent: the topic contains the wildcard #, which only subscriptions may use',
    );
    expect(mqtt.publish).not.toHaveBeenCalled();
  });

  it('fails at once while disconnected instead of leaving the publish to the offline store', async () => {
    const mqtt = new FakeMqttClient();
    mqtt.connected = false;
    const sut = publisherWith(mqtt);
    await expect(sut.publish(update())).rejects.toThrow('mqtt client is not connected');
    expect(mqtt.publish).not.toHaveBeenCalled();
    expect(sut.health()).toEqual({ up: false, reason: 'mqtt client is not connected' });
  });

  it('fails every publish still unconfirmed when the connection drops, and removes it from the store', async () => {
    const mqtt = new FakeMqttClient();
    const sut = publisherWith(mqtt);
    const first = sut.publish(update());
    const second = sut.publish(update('callback_query'));
    mqtt.outgoing[99] = { volatile: false, cmd: 'subscribe', cb: () => undefined };
    mqtt.drop();
    await expect(first).rejects.toThrow('the connection closed before the broker confirmed (PUBACK)');
    await expect(second).rejects.toThrow('the connection closed before the broker confirmed (PUBACK)');
    // Nothing of ours is left for mqtt.js to send again after the reconnect.
    expect(Object.keys(mqtt.outgoing)).toEqual(['99']);
  });

  it('reports health from the connection', () => {
    expect(publisherWith(new FakeMqttClient()).health()).toEqual({ up: true });
    const notStarted = new MqttPublisher(
      {
        unwrap: () => {
          throw new Error('Not initialized');
        },
      } as unknown as ClientMqtt,
      config,
    );
    expect(notStarted.health()).toEqual({ up: false, reason: 'mqtt client is not connected' });
  });
});
