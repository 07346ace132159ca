/**
 * NATS target, end to end: JetStream by default (the stream holds the update before Telegram gets
 * its 200), core NATS on request. Checked with a plain NATS client; the outage runs against a
 * private nats-server with JetStream (test/support/brokers.ts), never the shared one.
 */
import { randomUUID } from 'node:crypto';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { hookEnv, startApp, type TestApp } from './support/app.js';
import { startPrivateNats } from './support/brokers.js';
import { FakeBotApi, realisticUpdate } from './support/fake-bot-api.js';
import { oddlyFormatted, postUpdate, readStatus } from './support/webhook-client.js';
import { brokerOutage } from './support/outage.js';
import { waitUntil } from './support/wait.js';

const SHARED_NATS = 'nats://127.0.0.1:4222';
const TOKEN = '555001:AAH_nats-test-bot-token';
const BOT_ID = 555001;
const SECRET = 'nats_secret';

function post(app: TestApp, body: string): Promise<Response> {
  return postUpdate(app, body, SECRET);
}

/** A unique subject prefix and stream name, so parallel test files never share a stream. */
function names(): { prefix: string; stream: string } {
  const id = randomUUID().slice(0, 8);
  return { prefix: `trnats${id}`, stream: `tr_nats_${id}` };
}

describe('NATS target', () => {
  let api: FakeBotApi;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const apps: TestApp[] = [];
  const streams: string[] = [];
  const boot = async (extra: Record<string, string>): Promise<TestApp> => {
    const app = await startApp(
      {
        ...hookEnv(api.url, TOKEN, SECRET),
        ...extra,
      },
      { listen: true },
    );
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [{ token: TOKEN, id: BOT_ID, username: 'nats_test_bot' }] });
    nc = await connect({ servers: '127.0.0.1:4222' });
    jsm = await jetstreamManager(nc);
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  afterAll(async () => {
    for (const stream of streams) await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
    await api.close();
  });

  it('creates the JetStream stream and answers 200 once the stream stored the exact bytes', async () => {
    const { prefix, stream } = names();
    streams.push(stream);
    const app = await boot({
      NATS_URL: SHARED_NATS,
      NATS_STREAM: stream,
      NATS_SUBJECT: `${prefix}.{bot}.{type}`,
    });
    expect((await readStatus(app)).code).toBe(200);
    const info = await jsm.streams.info(stream);
    expect(info.config.subjects).toEqual([`${prefix}.*.*`]);

    const body = oddlyFormatted(7001);
    expect((await post(app, body)).status).toBe(200);
    const stored = await jsm.streams.getMessage(stream, { seq: 1 });
    expect(stored?.subject).toBe(`${prefix}.${BOT_ID}.message`);
    expect(Buffer.from(stored?.data ?? []).equals(Buffer.from(body))).toBe(true);
    expect(stored?.header.get('Nats-Msg-Id')).toBe(`${BOT_ID}:7001`);
    expect(stored?.header.get('bot')).toBe(String(BOT_ID));
    expect(stored?.header.get('update_id')).toBe('7001');
    expect(stored?.header.get('type')).toBe('message');
  });

  it('creates the stream again when it disappears while running', async () => {
    const { prefix, stream } = names();
    streams.push(stream);
    const app = await boot({
      NATS_URL: SHARED_NATS,
      NATS_STREAM: stream,
      NATS_SUBJECT: `${prefix}.{bot}.{type}`,
    });
    expect((await post(app, JSON.stringify(realisticUpdate(7101)))).status).toBe(200);
    await jsm.streams.delete(stream);
    // Nothing stores the update now: 503, never a 200 for an update no stream holds.
    expect((await post(app, JSON.stringify(realisticUpdate(7102)))).status).toBe(503);
    await waitUntil(async () => (await readStatus(app)).code === 200, 5000);
    expect((await post(app, JSON.stringify(realisticUpdate(7102)))).status).toBe(200);
    const stored = await jsm.streams.getMessage(stream, { seq: 1 });
    expect(stored?.json<{ update_id: number }>().update_id).toBe(7102);
  });

  it('adds its subjects to an existing stream that does not capture them, and sends the envelope', async () => {
    const { prefix, stream } = names();
    streams.push(stream);
    await jsm.streams.add({ name: stream, subjects: [`${prefix}-other.>`] });
    const app = await boot({
      NATS_URL: SHARED_NATS,
      NATS_STREAM: stream,
      NATS_SUBJECT: `${prefix}.{bot}.{type}`,
      PUBLISH_FORMAT: 'envelope',
    });
    expect((await jsm.streams.info(stream)).config.subjects).toEqual([`${prefix}-other.>`, `${prefix}.*.*`]);
    const update = realisticUpdate(7002, { type: 'pre_checkout_query' });
    expect((await post(app, JSON.stringify(update))).status).toBe(200);
    const stored = await jsm.streams.getMessage(stream, { seq: 1 });
    expect(stored?.subject).toBe(`${prefix}.${BOT_ID}.pre_checkout_query`);
    expect(stored?.json()).toMatchObject({
      bot: BOT_ID,
      update_id: 7002,
      type: 'pre_checkout_query',
      update,
    });
  });

  it('publishes core NATS, lossy and without a stream, with NATS_JETSTREAM=false', async () => {
    const { prefix, stream } = names();
    const app = await boot({
      NATS_URL: SHARED_NATS,
      NATS_JETSTREAM: 'false',
      NATS_STREAM: stream,
      NATS_SUBJECT: `${prefix}.{bot}.{type}`,
    });
    const received: Array<{ subject: string; data: Buffer; bot?: string }> = [];
    const subscription = nc.subscribe(`${prefix}.>`, {
      callback: (_error, msg) => {
        received.push({ subject: msg.subject, data: Buffer.from(msg.data), bot: msg.headers?.get('bot') });
      },
    });
    await nc.flush();
    const body = oddlyFormatted(7003);
    expect((await post(app, body)).status).toBe(200);
    await waitUntil(() => Promise.resolve(received.length === 1), 2000);
    expect(received[0]).toEqual({
      subject: `${prefix}.${BOT_ID}.message`,
      data: Buffer.from(body),
      bot: String(BOT_ID),
    });
    subscription.unsubscribe();
    await expect(jsm.streams.info(stream)).rejects.toThrow(/stream not found/i);
  });

  it('answers 503 + Retry-After while NATS is down (at boot or later), reports it at /status, and recovers without a restart', async () => {
    const nats = await startPrivateNats();
    await brokerOutage({
      broker: nats,
      target: 'nats',
      boot: (timeout) => boot({ NATS_URL: nats.url, NATS_STREAM: 'telegram', PUBLISH_TIMEOUT_MS: timeout }),
      post,
    });

    // The stream (kept on disk across the restart) holds both updates.
    const own = await connect({ servers: nats.url.replace('nats://', '') });
    const manager = await jetstreamManager(own);
    const ids: number[] = [];
    for (let seq = 1; seq <= 2; seq++) {
      ids.push(
        (await manager.streams.getMessage('telegram', { seq }))?.json<{ update_id: number }>().update_id ??
          -1,
      );
    }
    await own.close();
    expect(ids).toEqual([1, 2]);
    await nats.stop();
  }, 45_000);
});
