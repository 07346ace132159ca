/**
 * One update must never take a target down. An update whose kind is no name (`a/#`, `+`, a NUL,
 * 70,000 characters, …) would become part of a topic, subject or routing key that makes the broker
 * drop the connection every update shares; a message a broker refuses must fail that update alone.
 *
 * - The webhook answers such kinds 400 and publishes nothing; the next updates of the same and of
 *   another bot are 200 at once, their exact bytes on the broker (shared Mosquitto, the embedded
 *   broker, NATS JetStream, RabbitMQ).
 * - Second line, past the webhook: the same kinds handed straight to PublishService fail fast where
 *   the broker would refuse them (or are stored where it takes them), and updates of another bot
 *   published meanwhile and afterwards are 200.
 * - Brokers that refuse a message: a private aedes broker that drops the client for one bot's
 *   topic (mqtt.js must not send that message again on every reconnect), a private nats-server
 *   with a small max_payload, and a RabbitMQ exchange deleted under the service (the broker closes
 *   the channel).
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import mqtt, { type MqttClient } from 'mqtt';
import { PublishService } from '../src/publisher/publish.service.js';
import type { InboundUpdate } from '../src/publisher/publisher.interface.js';
import type { BotIdentity } from '../src/bots/bot.js';
import { BotRegistry } from '../src/bots/bot-registry.service.js';
import { startApp, writeBotsFile, type TestApp } from './support/app.js';
import { freePort, startPrivateNatsWithConfig } from './support/brokers.js';
import { FakeBotApi, realisticUpdate } from './support/fake-bot-api.js';
import { postUpdate, readStatus } from './support/webhook-client.js';
import { waitUntil } from './support/wait.js';

/** Well under the PUBLISH_TIMEOUT_MS of 5 s the apps below use: a refusal that waited for a confirmation takes 5 s. */
const REFUSED_WITHIN_MS = 3_500;

const SHOP = { token: '730001:AAH_poison-shop-bot-token', id: 730001, username: 'poison_shop_bot' };
const HELP = { token: '730002:AAH_poison-help-bot-token', id: 730002, username: 'poison_help_bot' };
const SHOP_SECRET = 'shop_poison_secret';
const HELP_SECRET = 'help_poison_secret';

/** Kinds no broker name may be built from, by what the test calls them. */
const KINDS: ReadonlyArray<readonly [string, string]> = [
  ['a/#', 'a/#'],
  ['+', '+'],
  ['#', '#'],
  ['a.b', 'a.b'],
  ['a b', 'a b'],
  ['a NUL b', 'a\u0000b'],
  ['70,000 characters', 'k'.repeat(70_000)],
  ['300 characters', 'k'.repeat(300)],
];

/** An update of `kind`, the kind written as a JSON key (a NUL escaped as \u0000). */
function updateOfKind(updateId: number, kind: string): string {
  return `{"update_id":${updateId},${JSON.stringify(kind)}:{"message_id":1,"date":1700000000,"chat":{"id":1,"type":"private"}}}`;
}

let lastId = 40_000_000 + Math.floor(Math.random() * 1_000_000) * 100;
const nextId = (): number => ++lastId;

/** What publishers are handed of the bot with this id. */
function identityOf(app: TestApp, botId: number): BotIdentity {
  const bot = app.app
    .get(BotRegistry)
    .all()
    .find((candidate) => candidate.id === botId);
  if (!bot) throw new Error(`no bot ${botId}`);
  return bot.identity;
}

/** Messages that reached the broker, by update_id, with the topic / subject / routing key they came on. */
class Received {
  private readonly byId = new Map<number, { name: string; body: Buffer }>();

  add(name: string, body: Buffer): void {
    const updateId = (JSON.parse(body.toString()) as { update_id: number }).update_id;
    this.byId.set(updateId, { name, body: Buffer.from(body) });
  }

  async get(updateId: number): Promise<{ name: string; body: Buffer }> {
    await waitUntil(() => this.byId.has(updateId), 5000);
    return this.byId.get(updateId) as { name: string; body: Buffer };
  }
}

/** One broker target: its settings, and what reads back from it once the app is up. */
interface Target {
  readonly name: string;
  env(): Promise<Record<string, string>>;
  /** Starts reading everything the app publishes from now on. */
  read(received: Received): Promise<void>;
  /** The topic, subject or routing key an update of `botId` and `kind` goes to. */
  nameOf(botId: number, kind: string): string;
  close(): Promise<void>;
}

function mqttTarget(name: string, embedded: boolean): Target {
  const prefix = `trpoison${randomUUID().slice(0, 8)}`;
  let url = 'mqtt://127.0.0.1:1883';
  let subscriber: MqttClient | undefined;
  return {
    name,
    async env(): Promise<Record<string, string>> {
      if (!embedded) return { MQTT_URL: url, MQTT_TOPIC: `${prefix}/{bot}/{type}` };
      const port = await freePort();
      url = `mqtt://127.0.0.1:${port}`;
      return {
        MQTT_EMBEDDED_PORT: String(port),
        WEBHOOK_BIND: '127.0.0.1',
        MQTT_TOPIC: `${prefix}/{bot}/{type}`,
      };
    },
    async read(received) {
      subscriber = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
      subscriber.on('message', (topic, payload) => received.add(topic, payload));
      await subscriber.subscribeAsync(`${prefix}/#`, { qos: 1 });
    },
    nameOf: (botId, kind) => `${prefix}/${botId}/${kind}`,
    async close() {
      await subscriber?.endAsync(true);
    },
  };
}

function natsTarget(): Target {
  const id = randomUUID().slice(0, 8);
  const prefix = `trpoison${id}`;
  const stream = `tr_poison_${id}`;
  let nc: NatsConnection | undefined;
  let jsm: JetStreamManager | undefined;
  return {
    name: 'NATS JetStream',
    env: () =>
      Promise.resolve({
        NATS_URL: 'nats://127.0.0.1:4222',
        NATS_STREAM: stream,
        NATS_SUBJECT: `${prefix}.{bot}.{type}`,
      }),
    async read(received) {
      nc = await natsConnect({ servers: '127.0.0.1:4222' });
      jsm = await jetstreamManager(nc);
      // A publish into the stream is delivered to core subscribers of its subject too; the app
      // answers 200 only on the stream's PubAck.
      nc.subscribe(`${prefix}.>`, {
        callback: (_error, msg) => received.add(msg.subject, Buffer.from(msg.data)),
      });
      await nc.flush();
    },
    nameOf: (botId, kind) => `${prefix}.${botId}.${kind}`,
    async close() {
      await jsm?.streams.delete(stream).catch(() => undefined);
      await nc?.close();
    },
  };
}

function amqpTarget(): Target {
  const exchange = `tr-poison-${randomUUID()}`;
  let connection: ChannelModel | undefined;
  let channel: Channel | undefined;
  return {
    name: 'RabbitMQ',
    env: () => Promise.resolve({ AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672', AMQP_EXCHANGE: exchange }),
    async read(received) {
      connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
      channel = await connection.createChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true });
      await channel.bindQueue(queue, exchange, '#');
      await channel.consume(queue, (msg) => msg && received.add(msg.fields.routingKey, msg.content), {
        noAck: true,
      });
    },
    nameOf: (botId, kind) => `${botId}.${kind}`,
    async close() {
      await channel?.deleteExchange(exchange).catch(() => undefined);
      await connection?.close();
    },
  };
}

describe('poisoned update kinds and refused publishes', () => {
  let api: FakeBotApi;
  const botsFile = (shopMqttTopic?: string): string =>
    writeBotsFile(
      [
        'bots:',
        `  - token: "${SHOP.token}"`,
        '    endpoint: shop',
        `    secret: ${SHOP_SECRET}`,
        ...(shopMqttTopic ? [`    mqtt_topic: ${shopMqttTopic}`] : []),
        `  - token: "${HELP.token}"`,
        '    endpoint: help',
        `    secret: ${HELP_SECRET}`,
      ].join('\n'),
    );
  const boot = (env: Record<string, string>, shopMqttTopic?: string): Promise<TestApp> =>
    startApp(
      {
        BOTS_FILE: botsFile(shopMqttTopic),
        TELEGRAM_API_URL: api.url,
        TELEGRAM_SET_WEBHOOK: 'false',
        TELEGRAM_DELETE_WEBHOOK: 'false',
        PUBLISH_TIMEOUT_MS: '5000',
        ...env,
      },
      { listen: true },
    );
  const postShop = (app: TestApp, body: string): Promise<Response> =>
    postUpdate(app, body, SHOP_SECRET, '/shop');
  const postHelp = (app: TestApp, body: string): Promise<Response> =>
    postUpdate(app, body, HELP_SECRET, '/help');

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [SHOP, HELP] });
  });
  afterAll(() => api.close());

  describe.each([
    mqttTarget('MQTT on the shared Mosquitto', false),
    mqttTarget('MQTT on the embedded broker', true),
    natsTarget(),
    amqpTarget(),
  ])('$name', (target) => {
    let app: TestApp;
    let shop: BotIdentity;
    const received = new Received();

    beforeAll(async () => {
      app = await boot(await target.env());
      await target.read(received);
      shop = identityOf(app, SHOP.id);
    });
    afterAll(async () => {
      await app?.close();
      await target.close();
    });

    /** A normal update of the bot, answered 200 on the first try, its exact bytes on the broker. */
    async function expectDelivered(post: typeof postShop, botId: number): Promise<void> {
      const updateId = nextId();
      const body = JSON.stringify(realisticUpdate(updateId));
      expect((await post(app, body)).status).toBe(200);
      const message = await received.get(updateId);
      expect(message.name).toBe(target.nameOf(botId, 'message'));
      expect(message.body.equals(Buffer.from(body))).toBe(true);
    }

    it.each(KINDS)(
      'answers an update of kind %s 400, and the next updates of both bots 200 at once',
      async (_name, kind) => {
        const response = await postShop(app, updateOfKind(nextId(), kind));
        expect(response.status).toBe(400);
        await expectDelivered(postShop, SHOP.id);
        await expectDelivered(postHelp, HELP.id);
      },
    );

    /** What the broker would do with each kind: `stored`, or a refusal the publisher makes first. */
    const expected: Record<string, Record<string, string>> = {
      MQTT: {
        'a/#': 'the topic contains the wildcard #',
        '+': 'the topic contains the wildcard +',
        '#': 'the topic contains the wildcard #',
        'a NUL b': 'the topic contains U+0000',
        '70,000 characters': 'bytes long; MQTT allows 65535',
      },
      'NATS JetStream': {
        'a.b': 'the subject has 4 tokens; the stream captures subjects of 3',
        'a b': 'the subject contains U+0020',
        'a NUL b': 'the subject contains U+0000',
        '70,000 characters': 'bytes long; at most 3840 fit a NATS protocol line',
      },
      RabbitMQ: {
        '70,000 characters': 'the routing key is 70007 bytes long; AMQP allows 255',
        '300 characters': 'the routing key is 307 bytes long; AMQP allows 255',
      },
    };

    it.each(KINDS)(
      'past the webhook, an update of kind %s fails alone and fast or is stored; other updates meanwhile and after are 200',
      async (name, kind) => {
        const updateId = nextId();
        const raw = Buffer.from(updateOfKind(updateId, kind));
        const update: InboundUpdate = {
          bot: shop,
          updateId,
          type: kind,
          raw,
          payload: raw,
          receivedAt: Date.now(),
        };
        const started = Date.now();
        const helpId = nextId();
        const helpBody = JSON.stringify(realisticUpdate(helpId));
        const [published, help] = await Promise.allSettled([
          app.app.get(PublishService).publish(update),
          postHelp(app, helpBody),
        ]);
        const refusal = expected[target.name.startsWith('MQTT') ? 'MQTT' : target.name]?.[name];
        if (refusal === undefined) {
          expect(published).toEqual({ status: 'fulfilled', value: 'published' });
          const message = await received.get(updateId);
          expect(message.name).toBe(target.nameOf(SHOP.id, kind));
          expect(message.body.equals(raw)).toBe(true);
        } else {
          expect(published.status).toBe('rejected');
          expect(String((published as PromiseRejectedResult).reason)).toContain(refusal);
          // Refused before sending: not the PUBLISH_TIMEOUT_MS of a message sent and never confirmed.
          expect(Date.now() - started).toBeLessThan(REFUSED_WITHIN_MS);
        }
        // The update published meanwhile by another bot, and the next ones, are unharmed.
        expect(help.status === 'fulfilled' && help.value.status).toBe(200);
        expect((await received.get(helpId)).body.equals(Buffer.from(helpBody))).toBe(true);
        await expectDelivered(postShop, SHOP.id);
        await expectDelivered(postHelp, HELP.id);
      },
    );
  });

  it('MQTT: a broker that drops the client for one bot’s topic fails that update fast, never gets it again from mqtt.js, and takes the next update of another bot', async () => {
    const attempts: string[] = [];
    const broker = await Aedes.createBroker({
      // aedes drops a client whose publish is not authorised (MQTT 3.1.1 has no negative PUBACK).
      authorizePublish: (_client, packet, callback) => {
        attempts.push(packet.topic);
        callback(packet.topic.startsWith('refused/') ? new Error('refused by the test broker') : null);
      },
    });
    const server = createServer(broker.handle);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const received = new Received();
    const subscriber = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
    subscriber.on('message', (topic, payload) => received.add(topic, payload));
    await subscriber.subscribeAsync('ok/#', { qos: 1 });
    const app = await boot({ MQTT_URL: url, MQTT_TOPIC: 'ok/{bot}/{type}' }, 'refused/{bot}/{type}');
    try {
      const refusedAttempts = (): number => attempts.filter((t) => t.startsWith('refused/')).length;
      for (let round = 1; round <= 2; round++) {
        // Telegram's first delivery, then its retry: each fails alone, once the broker dropped the client.
        const started = Date.now();
        expect((await postShop(app, JSON.stringify(realisticUpdate(nextId())))).status).toBe(503);
        expect(Date.now() - started).toBeLessThan(REFUSED_WITHIN_MS);
        await waitUntil(async () => (await readStatus(app)).code === 200, 10_000);
        const helpId = nextId();
        const helpBody = JSON.stringify(realisticUpdate(helpId));
        expect((await postHelp(app, helpBody)).status).toBe(200);
        const message = await received.get(helpId);
        expect(message.name).toBe(`ok/${HELP.id}/message`);
        expect(message.body.equals(Buffer.from(helpBody))).toBe(true);
        // The refused message was not sent again on reconnect: the broker saw it once per delivery.
        expect(refusedAttempts()).toBe(round);
      }
    } finally {
      await app.close();
      await subscriber.endAsync(true);
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('NATS: a payload over the server’s max_payload fails that update at once and leaves the shared connection up', async () => {
    const nats = await startPrivateNatsWithConfig(['max_payload: 4096']);
    const nc = await natsConnect({ servers: `127.0.0.1:${nats.port}` });
    const received = new Received();
    nc.subscribe('poison.>', { callback: (_error, msg) => received.add(msg.subject, Buffer.from(msg.data)) });
    await nc.flush();
    const app = await boot({
      NATS_URL: nats.url,
      NATS_STREAM: 'poison',
      NATS_SUBJECT: 'poison.{bot}.{type}',
    });
    try {
      const big = JSON.stringify(realisticUpdate(nextId(), { text: 'x'.repeat(5000) }));
      const helpId = nextId();
      const helpBody = JSON.stringify(realisticUpdate(helpId));
      const started = Date.now();
      const [refused, help] = await Promise.all([postShop(app, big), postHelp(app, helpBody)]);
      expect(refused.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(REFUSED_WITHIN_MS);
      expect(help.status).toBe(200);
      expect((await received.get(helpId)).body.equals(Buffer.from(helpBody))).toBe(true);
      expect((await readStatus(app)).code).toBe(200);
      const nextHelp = nextId();
      expect((await postHelp(app, JSON.stringify(realisticUpdate(nextHelp)))).status).toBe(200);
      expect((await received.get(nextHelp)).name).toBe(`poison.${HELP.id}.message`);
    } finally {
      await app.close();
      await nc.close();
      await nats.stop();
    }
  });

  it('RabbitMQ: a publish that makes the broker close the channel fails that update fast with the broker’s reason, and the very next update is 200', async () => {
    const exchange = `tr-poison-${randomUUID()}`;
    const app = await boot({ AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672', AMQP_EXCHANGE: exchange });
    const connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    const channel = await connection.createChannel();
    try {
      // Deleted under the service: its next publish makes RabbitMQ close the channel (404 NOT_FOUND).
      await channel.deleteExchange(exchange);
      const started = Date.now();
      const refused = app.app.get(PublishService).publish({
        bot: identityOf(app, SHOP.id),
        updateId: nextId(),
        type: 'message',
        raw: Buffer.from('{}'),
        payload: Buffer.from('{}'),
        receivedAt: Date.now(),
      });
      await expect(refused).rejects.toThrow(/Channel closed by server: 404 \(NOT-FOUND\)/);
      expect(Date.now() - started).toBeLessThan(REFUSED_WITHIN_MS);
      // Right after: the service opened a new channel (declaring the exchange again) and publishes on it.
      expect((await postHelp(app, JSON.stringify(realisticUpdate(nextId())))).status).toBe(200);
      const { queue } = await channel.assertQueue('', { exclusive: true });
      await channel.bindQueue(queue, exchange, '#');
      const body = JSON.stringify(realisticUpdate(nextId()));
      expect((await postShop(app, body)).status).toBe(200);
      const message = await channel.get(queue, { noAck: true });
      expect(message && message.fields.routingKey).toBe(`${SHOP.id}.message`);
      expect(message && message.content.equals(Buffer.from(body))).toBe(true);
    } finally {
      await app.close();
      await channel.deleteExchange(exchange).catch(() => undefined);
      await connection.close();
    }
  });
});
