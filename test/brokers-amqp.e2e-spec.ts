/**
 * RabbitMQ target, end to end: the real app publishes through its confirm-channel client to a real broker;
 * a plain amqplib consumer checks what arrived. The outage runs against a private RabbitMQ node
 * (test/support/rabbitmq.ts), never the shared one.
 */
import { randomUUID } from 'node:crypto';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { hookEnv, startApp, type TestApp } from './support/app.js';
import { FakeBotApi, realisticUpdate } from './support/fake-bot-api.js';
import { startPrivateRabbitMq } from './support/rabbitmq.js';
import { oddlyFormatted, postUpdate } from './support/webhook-client.js';
import { brokerOutage } from './support/outage.js';

const SHARED_AMQP = 'amqp://guest:guest@127.0.0.1:5672';
const TOKEN = '444001:AAH_amqp-test-bot-token';
const BOT_ID = 444001;
const SECRET = 'amqp_secret';

function post(app: TestApp, body: string): Promise<Response> {
  return postUpdate(app, body, SECRET);
}

describe('RabbitMQ target', () => {
  let api: FakeBotApi;
  const apps: TestApp[] = [];
  const env = (extra: Record<string, string>): Record<string, string> => ({
    ...hookEnv(api.url, TOKEN, SECRET),
    ...extra,
  });
  const boot = async (extra: Record<string, string>): Promise<TestApp> => {
    const app = await startApp(env(extra), { listen: true });
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [{ token: TOKEN, id: BOT_ID, username: 'amqp_test_bot' }] });
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  afterAll(() => api.close());

  describe('on the shared broker', () => {
    let connection: ChannelModel;
    let channel: Channel;
    const exchanges: string[] = [];

    beforeAll(async () => {
      connection = await amqp.connect(SHARED_AMQP);
      channel = await connection.createChannel();
    });
    afterAll(async () => {
      for (const exchange of exchanges) await channel.deleteExchange(exchange);
      await connection.close();
    });

    async function bindQueue(exchange: string): Promise<string> {
      const { queue } = await channel.assertQueue('', { exclusive: true });
      await channel.bindQueue(queue, exchange, '#');
      return queue;
    }

    it('declares a durable topic exchange and publishes the exact bytes, persistent, keyed <bot>.<type>', async () => {
      const exchange = `tr-amqp-${randomUUID()}`;
      exchanges.push(exchange);
      const app = await boot({ AMQP_URL: SHARED_AMQP, AMQP_EXCHANGE: exchange });

      // The service declared it: durable (a non-durable declaration is refused) and of type topic.
      const probe = await connection.createChannel();
      probe.on('error', () => undefined);
      await expect(probe.assertExchange(exchange, 'topic', { durable: false })).rejects.toThrow(
        /PRECONDITION/,
      );
      await channel.assertExchange(exchange, 'topic', { durable: true });
      const queue = await bindQueue(exchange);

      const body = oddlyFormatted(9001);
      const response = await post(app, body);
      expect(response.status).toBe(200);
      const message = await channel.get(queue, { noAck: true });
      expect(message).not.toBe(false);
      if (message === false) return;
      expect(message.fields.exchange).toBe(exchange);
      expect(message.fields.routingKey).toBe(`${BOT_ID}.message`);
      expect(message.content.equals(Buffer.from(body))).toBe(true);
      expect(message.properties).toMatchObject({
        deliveryMode: 2,
        contentType: 'application/json',
        type: 'message',
        messageId: `${BOT_ID}:9001`,
        headers: { bot: BOT_ID, update_id: 9001, type: 'message' },
      });

      const callback = JSON.stringify(realisticUpdate(9002, { type: 'callback_query' }));
      expect((await post(app, callback)).status).toBe(200);
      const second = await channel.get(queue, { noAck: true });
      expect(second && second.fields.routingKey).toBe(`${BOT_ID}.callback_query`);
      expect(second && second.content.toString()).toBe(callback);
    });

    it('sends the envelope with PUBLISH_FORMAT=envelope', async () => {
      const exchange = `tr-amqp-${randomUUID()}`;
      exchanges.push(exchange);
      const app = await boot({ AMQP_URL: SHARED_AMQP, AMQP_EXCHANGE: exchange, PUBLISH_FORMAT: 'envelope' });
      const queue = await bindQueue(exchange);
      const body = oddlyFormatted(9003);
      const before = Date.now();
      expect((await post(app, body)).status).toBe(200);
      const message = await channel.get(queue, { noAck: true });
      if (message === false) throw new Error('no message on the queue');
      const text = message.content.toString();
      // The update is spliced in as received, not re-serialised.
      expect(text.endsWith(`"update":${body}}`)).toBe(true);
      const envelope = JSON.parse(text) as Record<string, unknown>;
      expect(envelope).toMatchObject({
        bot: BOT_ID,
        update_id: 9003,
        type: 'message',
        update: JSON.parse(body),
      });
      expect(envelope.received_at).toBeGreaterThanOrEqual(before);
    });
  });

  it('answers 503 + Retry-After while RabbitMQ is down (at boot or later), reports it at /status, and recovers without a restart', async () => {
    const rabbit = await startPrivateRabbitMq();
    const exchange = 'telegram';
    const queueName = 'updates';
    const bindDurableQueue = async (): Promise<ChannelModel> => {
      const connection = await amqp.connect(rabbit.url);
      const channel = await connection.createChannel();
      await channel.assertExchange(exchange, 'topic', { durable: true });
      await channel.assertQueue(queueName, { durable: true });
      await channel.bindQueue(queueName, exchange, '#');
      return connection;
    };
    const setup = await bindDurableQueue();
    await setup.close();

    await brokerOutage({
      broker: rabbit,
      target: 'amqp',
      boot: (timeout) => boot({ AMQP_URL: rabbit.url, AMQP_EXCHANGE: exchange, PUBLISH_TIMEOUT_MS: timeout }),
      post,
      // /status says why, without the URL's credentials.
      onDown: (status) => {
        expect(status.error?.amqp?.reason).toMatch(/rabbitmq/);
        expect(JSON.stringify(status)).not.toContain('guest:guest');
      },
      recoveryMs: 20_000,
    });

    // Both updates confirmed as persistent messages: the first even survived the broker restart.
    const connection = await bindDurableQueue();
    const channel = await connection.createChannel();
    const ids: number[] = [];
    for (
      let message = await channel.get(queueName, { noAck: true });
      message;
      message = await channel.get(queueName, { noAck: true })
    ) {
      ids.push((JSON.parse(message.content.toString()) as { update_id: number }).update_id);
    }
    await connection.close();
    expect(ids).toEqual([1, 2]);
    await rabbit.stop();
  }, 60_000);
});
