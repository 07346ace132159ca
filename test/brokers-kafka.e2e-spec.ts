/**
 * Kafka target, end to end, against librdkafka's mock cluster (test/support/kafka.ts): a private
 * 3-broker cluster hosted by kcat. Records are read back by a KafkaJS consumer in a group of its
 * own, as a consumer service would read them.
 */
import { randomUUID } from 'node:crypto';
import { start as startWorker } from '../examples/consumer/worker.js';
import { startApp, writeBotsFile, type TestApp } from './support/app.js';
import { freePort } from './support/brokers.js';
import { FakeBotApi, realisticUpdate } from './support/fake-bot-api.js';
import {
  consumeRecords,
  startBootstrapProxy,
  startClusterWithoutTopics,
  startMockKafka,
  type MockKafkaCluster,
} from './support/kafka.js';
import { ReceiverProcess } from './support/receiver-process.js';
import { TelegramSender } from './support/telegram-sender.js';
import { oddlyFormatted, postUpdate, readStatus } from './support/webhook-client.js';
import { waitUntil } from './support/wait.js';

const TOKEN = '555002:AAH_kafka-test-bot-token';
const BOT_ID = 555002;
const SHOP_TOKEN = '555003:AAH_kafka-shop-bot-token';
const SHOP_ID = 555003;
const SECRET = 'kafka_secret';

/** A topic prefix of its own per test: the mock cluster is shared by the file. */
const prefix = (): string => `tr${randomUUID().slice(0, 8)}`;

describe('Kafka target', () => {
  let api: FakeBotApi;
  let cluster: MockKafkaCluster;
  const apps: TestApp[] = [];
  const boot = async (extra: Record<string, string>): Promise<TestApp> => {
    const app = await startApp(
      {
        TELEGRAM_TOKEN: TOKEN,
        TELEGRAM_API_URL: api.url,
        TELEGRAM_SET_WEBHOOK: 'false',
        TELEGRAM_DELETE_WEBHOOK: 'false',
        WEBHOOK_ENDPOINT: 'hook',
        WEBHOOK_SECRET: SECRET,
        KAFKA_BROKERS: cluster.bootstrap,
        ...extra,
      },
      { listen: true },
    );
    apps.push(app);
    return app;
  };
  const post = (app: TestApp, body: string | object, path?: string): Promise<Response> =>
    postUpdate(app, typeof body === 'string' ? body : JSON.stringify(body), SECRET, path);

  beforeAll(async () => {
    api = await FakeBotApi.start({
      bots: [
        { token: TOKEN, id: BOT_ID, username: 'kafka_test_bot' },
        { token: SHOP_TOKEN, id: SHOP_ID, username: 'kafka_shop_bot' },
      ],
    });
    cluster = await startMockKafka();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  afterAll(async () => {
    await cluster.stop();
    await api.close();
  });

  it('answers 200 once the record is on the topic: exact bytes, headers bot/update_id/type, key by chat, else user, else bot', async () => {
    const topic = `${prefix()}.{bot}`;
    const app = await boot({ KAFKA_TOPIC: topic });
    expect((await readStatus(app)).body.info?.kafka?.status).toBe('up');

    const message = oddlyFormatted(9001); // chat 42
    const callback = JSON.stringify(realisticUpdate(9002, { type: 'callback_query', chatId: -100777 }));
    const inline = JSON.stringify(realisticUpdate(9003, { type: 'inline_query', chatId: 4711 }));
    const poll = JSON.stringify({ update_id: 9004, poll: { id: 'p1', question: 'Tea?', options: [] } });
    for (const body of [message, callback, inline, poll]) expect((await post(app, body)).status).toBe(200);

    const records = await consumeRecords(cluster.bootstrap, [topic.replace('{bot}', String(BOT_ID))], 4);
    const byId = new Map(records.map((r) => [Number(r.headers.update_id), r]));
    expect(records).toHaveLength(4);
    expect(byId.get(9001)?.value.equals(Buffer.from(message))).toBe(true);
    expect(byId.get(9001)?.headers).toEqual({ bot: String(BOT_ID), update_id: '9001', type: 'message' });
    expect(byId.get(9002)?.value.equals(Buffer.from(callback))).toBe(true);
    expect(byId.get(9002)?.headers.type).toBe('callback_query');
    expect([...byId].map(([id, r]) => [id, r.key])).toEqual(
      expect.arrayContaining([
        [9001, `${BOT_ID}:42`],
        [9002, `${BOT_ID}:-100777`], // the chat of the message the button was under
        [9003, `${BOT_ID}:4711`], // no chat: the user
        [9004, String(BOT_ID)], // neither: the bot
      ]),
    );
  });

  it('keeps each chat in order on its key while chats go in parallel', async () => {
    const topic = `${prefix()}.{bot}`;
    const app = await boot({ KAFKA_TOPIC: topic });
    const chats = [1001, 1002, -1003];
    // Telegram sends one chat's updates one at a time, different chats at once.
    await Promise.all(
      chats.map(async (chatId, c) => {
        for (let n = 0; n < 8; n++) {
          const response = await post(app, realisticUpdate(20_000 + c * 100 + n, { chatId }));
          expect(response.status).toBe(200);
        }
      }),
    );
    const records = await consumeRecords(cluster.bootstrap, [topic.replace('{bot}', String(BOT_ID))], 24);
    for (const [c, chatId] of chats.entries()) {
      const own = records.filter((r) => r.key === `${BOT_ID}:${chatId}`);
      // One partition per key, and the partition's order is the order Telegram sent them in.
      expect(new Set(own.map((r) => r.partition)).size).toBe(1);
      own.sort((a, b) => a.offset - b.offset);
      expect(own.map((r) => Number(r.headers.update_id))).toEqual(
        Array.from({ length: 8 }, (_, n) => 20_000 + c * 100 + n),
      );
    }
  });

  it('fills {bot} and {type} in KAFKA_TOPIC, and sends the envelope with PUBLISH_FORMAT=envelope', async () => {
    const base = prefix();
    const app = await boot({ KAFKA_TOPIC: `${base}.{bot}.{type}`, PUBLISH_FORMAT: 'envelope' });
    const update = realisticUpdate(9101, { type: 'pre_checkout_query' });
    expect((await post(app, update)).status).toBe(200);
    expect((await post(app, realisticUpdate(9102))).status).toBe(200);
    const records = await consumeRecords(
      cluster.bootstrap,
      [`${base}.${BOT_ID}.pre_checkout_query`, `${base}.${BOT_ID}.message`],
      2,
    );
    const checkout = records.find((r) => r.topic === `${base}.${BOT_ID}.pre_checkout_query`);
    expect(JSON.parse(checkout?.value.toString() ?? '{}')).toMatchObject({
      bot: BOT_ID,
      update_id: 9101,
      type: 'pre_checkout_query',
      update,
    });
    expect(records.find((r) => r.topic === `${base}.${BOT_ID}.message`)?.headers.update_id).toBe('9102');
  });

  it('routes per bot: BOTS_FILE routes.kafka and kafka_topic', async () => {
    const base = prefix();
    const botsFile = writeBotsFile(
      [
        'bots:',
        `  - token: "${TOKEN}"`,
        '    endpoint: main',
        `    secret: ${SECRET}`,
        `  - token: "${SHOP_TOKEN}"`,
        '    endpoint: shop',
        `    secret: ${SECRET}`,
        `    kafka_topic: ${base}-shop.{type}`,
        '    routes:',
        '      kafka: [pre_checkout_query]',
        '',
      ].join('\n'),
    );
    const app = await boot({ TELEGRAM_TOKEN: '', BOTS_FILE: botsFile, KAFKA_TOPIC: `${base}.{bot}` });
    expect((await post(app, realisticUpdate(9201, { type: 'pre_checkout_query' }), '/shop')).status).toBe(
      200,
    );
    // Not routed to Kafka for the shop bot: answered 200, stored nowhere.
    expect((await post(app, realisticUpdate(9202), '/shop')).status).toBe(200);
    expect((await post(app, realisticUpdate(9203), '/main')).status).toBe(200);
    const records = await consumeRecords(
      cluster.bootstrap,
      [`${base}-shop.pre_checkout_query`, `${base}-shop.message`, `${base}.${BOT_ID}`],
      2,
    );
    expect(records.map((r) => [r.topic, r.headers.bot, r.headers.update_id]).sort()).toEqual([
      [`${base}-shop.pre_checkout_query`, String(SHOP_ID), '9201'],
      [`${base}.${BOT_ID}`, String(BOT_ID), '9203'],
    ]);
  });

  it('publishes a redelivered update once, and 5,000 updates with 10% redelivered exactly once each', async () => {
    const topic = `${prefix()}.{bot}`;
    const app = await boot({ KAFKA_TOPIC: topic });
    const again = JSON.stringify(realisticUpdate(30_000));
    expect((await post(app, again)).status).toBe(200);
    expect((await post(app, again)).status).toBe(200);

    const updates: Record<string, unknown>[] = Array.from({ length: 5000 }, (_, i) =>
      realisticUpdate(30_001 + i, { chatId: 1 + (i % 50) }),
    );
    for (let i = 0; i < 500; i++) updates.push(updates[(i * 37) % 5000] as Record<string, unknown>);
    const sender = new TelegramSender({ url: `${app.url}/hook`, secret: SECRET, connections: 40 });
    const sent = await sender.send(updates);
    await sender.close();
    expect(sent.failed).toEqual([]);

    const records = await consumeRecords(
      cluster.bootstrap,
      [topic.replace('{bot}', String(BOT_ID))],
      5001,
      30_000,
    );
    const ids = records.map((r) => Number(r.headers.update_id));
    expect(ids).toHaveLength(5001);
    expect(new Set(ids).size).toBe(5001);
  }, 60_000);

  it('answers 503 + Retry-After while the cluster is down (at boot or later), reports kafka at /status, and recovers on a new cluster without a restart', async () => {
    // The mock cluster picks new ports each start: a fixed bootstrap address stands in front of
    // it, as a DNS name or load balancer does before a real cluster.
    let current: MockKafkaCluster | undefined;
    const unused = `127.0.0.1:${await freePort()}`;
    const bootstrap = await startBootstrapProxy(() => current?.bootstrap ?? unused);
    const topic = `${prefix()}.{bot}`;
    try {
      const app = await boot({
        KAFKA_BROKERS: bootstrap.address,
        KAFKA_TOPIC: topic,
        PUBLISH_TIMEOUT_MS: '3000',
      });
      // Down at boot: the service starts anyway, says so, and connects once there is a cluster.
      const atBoot = await readStatus(app);
      expect(atBoot.code).toBe(503);
      expect(atBoot.body.error?.kafka?.reason).toContain(`kafka at ${bootstrap.address} is not reachable`);
      expect((await post(app, realisticUpdate(40_001))).status).toBe(503);
      current = await startMockKafka();
      await waitUntil(async () => (await readStatus(app)).code === 200, 15_000);
      expect((await post(app, realisticUpdate(40_001))).status).toBe(200);

      // Down under load: the sender keeps delivering while the whole cluster goes away.
      const sender = new TelegramSender({
        url: `${app.url}/hook`,
        secret: SECRET,
        connections: 8,
        maxBackoffMs: 300,
        deadlineMs: 45_000,
      });
      const load = sender.send(Array.from({ length: 600 }, (_, i) => realisticUpdate(41_000 + i)));
      await waitUntil(() => (sender.answered[200] ?? 0) >= 100, 15_000, 10);
      const first = current;
      current = undefined;
      await first.stop();
      // Each update is answered 200 once: these are the ones the lost cluster took, counted once the
      // requests sent before it stopped have their answers (an ack of its last moments still on the
      // way to the sender is one of them) and before there is a cluster again.
      await sender.inFlightAnswered();
      const takenByFirst = sender.answered[200] ?? 0;

      const started = Date.now();
      const refused = await post(app, realisticUpdate(40_002));
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      // Within PUBLISH_TIMEOUT_MS, with room for a busy machine (KafkaJS's own retries would take far longer).
      expect(Date.now() - started).toBeLessThan(3000 + 2000);
      const down = await readStatus(app);
      expect(down.code).toBe(503);
      expect(down.body.error?.kafka?.status).toBe('down');
      await waitUntil(() => (sender.answered[503] ?? 0) >= 20, 15_000, 10);

      // A new, empty cluster behind the same address: publishing resumes by itself.
      current = await startMockKafka();
      await waitUntil(async () => (await readStatus(app)).code === 200, 15_000);
      expect((await post(app, realisticUpdate(40_002))).status).toBe(200);
      const result = await load;
      await sender.close();
      expect(result.failed).toEqual([]);

      // The new cluster holds what was answered 200 after it came: 40_002 and every update of the
      // load the old one had not taken (what it had is gone with it, as a lost cluster's data is).
      const expected = 600 - takenByFirst + 1;
      const held = new Set<number>();
      await consumeRecords(current.bootstrap, [topic.replace('{bot}', String(BOT_ID))], (records) => {
        for (const r of records.slice(-1)) held.add(Number(r.headers.update_id));
        return held.size >= expected;
      });
      expect(held.has(40_002)).toBe(true);
      expect(held.size).toBeGreaterThanOrEqual(expected);
    } finally {
      await bootstrap.close();
      await current?.stop();
    }
  }, 60_000);

  it('names a missing topic at start and in /status when the cluster does not create topics', async () => {
    const noTopics = await startClusterWithoutTopics();
    const port = await freePort();
    const sut = await ReceiverProcess.start({
      TELEGRAM_TOKEN: TOKEN,
      TELEGRAM_API_URL: api.url,
      TELEGRAM_SET_WEBHOOK: 'false',
      TELEGRAM_DELETE_WEBHOOK: 'false',
      WEBHOOK_ENDPOINT: 'hook',
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_BIND: '127.0.0.1',
      WEBHOOK_PORT: String(port),
      KAFKA_BROKERS: noTopics.address,
      KAFKA_TOPIC: 'orders.{bot}',
    });
    try {
      const missing = `Kafka topic orders.${BOT_ID} does not exist and the cluster does not create topics on demand (auto.create.topics.enable=false)`;
      await waitUntil(() => sut.logs.includes(missing), 10_000);
      const status = await fetch(`http://127.0.0.1:${port}/status`);
      expect(status.status).toBe(503);
      const body = (await status.json()) as { error?: { kafka?: { reason?: string } } };
      expect(body.error?.kafka?.reason).toContain(missing);
      const refused = await fetch(`http://127.0.0.1:${port}/hook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
        body: JSON.stringify(realisticUpdate(9301)),
      });
      expect(refused.status).toBe(503);
    } finally {
      await sut.stop();
      await noTopics.close();
    }
  });

  it('feeds the example Kafka worker, which answers each text message through the Bot API', async () => {
    const topic = `${prefix()}.{bot}`;
    const app = await boot({ KAFKA_TOPIC: topic });
    const worker = await startWorker({
      tokens: [TOKEN],
      telegramApiUrl: api.url,
      kafka: { brokers: cluster.bootstrap.split(','), topics: [topic.replace('{bot}', String(BOT_ID))] },
      log: () => undefined,
    });
    try {
      api.clearCalls();
      expect((await post(app, realisticUpdate(9401, { chatId: 8080, text: 'ping over kafka' }))).status).toBe(
        200,
      );
      await api.waitFor(() => api.sentMessages().length === 1, 20_000);
      expect(api.sentMessages()).toEqual([
        { token: TOKEN, chat_id: 8080, text: 'You said: ping over kafka' },
      ]);
    } finally {
      await worker.close();
    }
  });
});
