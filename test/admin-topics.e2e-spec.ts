import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { startApp, type TestApp } from './support/app.js';
import { freePort } from './support/brokers.js';
import { FakeBotApi } from './support/fake-bot-api.js';
import { consumeRecords, startMockKafka, type MockKafkaCluster } from './support/kafka.js';
import { waitUntil } from './support/wait.js';

/**
 * A bot added through the admin API with its own `mqtt_topic` and `kafka_topic` publishes there,
 * as a BOTS_FILE bot with them does — not to MQTT_TOPIC / KAFKA_TOPIC.
 */
const ADMIN_TOKEN = 'topics_admin_token_0123456789abcdef';
const FIRST = { token: '733001:AAH_topics-first-bot', id: 733001, username: 'topics_first' };
const ADDED = { token: '733002:AAH_topics-added-bot', id: 733002, username: 'topics_added' };
const SECRET = 'topics_added_secret';
const SHARED_MQTT = 'mqtt://127.0.0.1:1883';

describe('per-bot topics of a bot added at runtime', () => {
  let api: FakeBotApi;
  let cluster: MockKafkaCluster;
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [FIRST, ADDED] });
    cluster = await startMockKafka(1);
  }, 30_000);
  afterAll(async () => {
    await app.close();
    await cluster.stop();
    await api.close();
  });

  it('publishes to the mqtt_topic and kafka_topic given in POST /bots', async () => {
    const base = `tr${randomUUID().slice(0, 8)}`;
    const port = await freePort();
    admin = `http://127.0.0.1:${port}`;
    app = await startApp(
      {
        TELEGRAM_TOKEN: FIRST.token,
        TELEGRAM_API_URL: api.url,
        TELEGRAM_SET_WEBHOOK: 'false',
        TELEGRAM_DELETE_WEBHOOK: 'false',
        MQTT_URL: SHARED_MQTT,
        MQTT_TOPIC: `${base}/default/{bot}`,
        KAFKA_BROKERS: cluster.bootstrap,
        KAFKA_TOPIC: `${base}.default.{bot}`,
        ADMIN_PORT: String(port),
        ADMIN_TOKEN,
      },
      { listen: true },
    );
    const client = await mqtt.connectAsync(SHARED_MQTT, { clientId: `${base}-reader` });
    const received: string[] = [];
    client.on('message', (topic) => received.push(topic));
    await client.subscribeAsync(`${base}/#`, { qos: 1 });
    try {
      const created = await fetch(`${admin}/bots`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          token: ADDED.token,
          endpoint: 'added',
          secret: SECRET,
          mqtt_topic: `${base}/own/{type}`,
          kafka_topic: `${base}.own.{bot}`,
        }),
      });
      expect(created.status).toBe(201);
      expect(await created.json()).toMatchObject({
        kafka_topic: `${base}.own.{bot}`,
        mqtt_topic: `${base}/own/{type}`,
      });

      const delivered = await fetch(`${app.url}/added`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
        body: JSON.stringify({ update_id: 42, message: { message_id: 1, chat: { id: 5 }, text: 'hi' } }),
      });
      expect(delivered.status).toBe(200);

      await waitUntil(() => received.length > 0, 10_000, 20, 'the MQTT message');
      expect(received).toEqual([`${base}/own/message`]);
      const records = await consumeRecords(
        cluster.bootstrap,
        [`${base}.own.${ADDED.id}`, `${base}.default.${ADDED.id}`],
        1,
      );
      expect(records.map((r) => [r.topic, r.headers.update_id])).toEqual([[`${base}.own.${ADDED.id}`, '42']]);
    } finally {
      await client.endAsync();
    }
  }, 60_000);
});
