/**
 * A team's own target added through DI: `AppModule.forRoot({ publishers, imports })` (here through
 * startApp). The plug-in is routed to, awaited before the 200, checked at /status and counted in
 * /metrics exactly like a built-in target.
 */
import { Injectable, Module } from '@nestjs/common';
import { inspect } from 'node:util';
import type {
  InboundUpdate,
  PublisherHealth,
  PublishResult,
  UpdatePublisher,
} from '../src/publisher/publisher.interface.js';
import { hookEnv, startApp, type TestApp } from './support/app.js';
import { FakeBotApi, realisticUpdate } from './support/fake-bot-api.js';
import { postUpdate, readStatus, type StatusBody } from './support/webhook-client.js';

const TOKEN = '999001:AAH_plugin-test-bot-token';
const BOT_ID = 999001;
const SECRET = 'plugin_secret';

/** What the plug-in depends on, provided by the team's own module: stands for a database client. */
@Injectable()
class AuditStore {
  readonly rows: Array<{ bot: number; updateId: number; type: string; body: string }> = [];
  /** Every `update.bot` the plug-in was handed, as it was handed. */
  readonly bots: unknown[] = [];
  online = true;

  insert(row: { bot: number; updateId: number; type: string; body: string }): Promise<void> {
    if (!this.online) return Promise.reject(new Error('audit database is offline'));
    this.rows.push(row);
    return Promise.resolve();
  }
}

@Module({ providers: [AuditStore], exports: [AuditStore] })
class AuditStoreModule {}

/** The plug-in: an ordinary Nest provider implementing UpdatePublisher, with its dependency injected. */
@Injectable()
class AuditPublisher implements UpdatePublisher {
  readonly name = 'audit';

  constructor(private readonly store: AuditStore) {}

  async publish(update: InboundUpdate): Promise<PublishResult> {
    this.store.bots.push(update.bot);
    await this.store.insert({
      bot: update.bot.id,
      updateId: update.updateId,
      type: update.type,
      body: update.payload.toString('utf8'),
    });
    return 'published';
  }

  health(): PublisherHealth {
    return this.store.online ? { up: true } : { up: false, reason: 'audit database is offline' };
  }
}

describe('plug-in publisher', () => {
  let api: FakeBotApi;
  let app: TestApp;

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [{ token: TOKEN, id: BOT_ID, username: 'plugin_test_bot' }] });
    app = await startApp(
      {
        ...hookEnv(api.url, TOKEN, SECRET),
        METRICS_ENABLED: 'true',
      },
      { listen: true, publishers: [AuditPublisher], imports: [AuditStoreModule] },
    );
  });
  afterAll(async () => {
    await app.close();
    await api.close();
  });

  const post = (body: string): Promise<Response> => postUpdate(app, body, SECRET);
  const status = (): Promise<{ code: number; body: StatusBody }> => readStatus(app);

  it('receives every update, is listed at /status and counted in /metrics', async () => {
    const store = app.app.get(AuditStore);
    const body = JSON.stringify(realisticUpdate(501, { type: 'callback_query' }));
    expect((await post(body)).status).toBe(200);
    expect(store.rows).toEqual([{ bot: BOT_ID, updateId: 501, type: 'callback_query', body }]);

    const ready = await status();
    expect(ready.code).toBe(200);
    expect(ready.body.info?.audit).toEqual({ status: 'up' });
    // The only target: no embedded MQTT broker was started beside it.
    expect(Object.keys(ready.body.info ?? {})).not.toContain('mqtt');

    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`telegram_receiver_updates_published_total\\{[^}]*target="audit"[^}]*\\} 1`),
    );
    // For alerting: a failure series at 0 before any failure, the target's state, the build.
    expect(metrics).toContain('telegram_receiver_publish_failures_total{target="audit"} 0');
    expect(metrics).toContain('telegram_receiver_target_up{target="audit"} 1');
    expect(metrics).toMatch(/^telegram_receiver_build_info\{version="\d+\.\d+\.\d+",node="v\d+[^"]*"\} 1$/m);
  });

  it('holds back the 200 when it fails, shows it at /status, and takes updates again once back', async () => {
    const store = app.app.get(AuditStore);
    store.online = false;
    const body = JSON.stringify(realisticUpdate(502));
    const refused = await post(body);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    const down = await status();
    expect(down.code).toBe(503);
    expect(down.body.error?.audit).toEqual({ status: 'down', reason: 'audit database is offline' });
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toContain('telegram_receiver_target_up{target="audit"} 0');
    expect(metrics).toContain('telegram_receiver_publish_failures_total{target="audit"} 1');

    store.online = true;
    expect((await status()).code).toBe(200);
    expect((await post(body)).status).toBe(200);
    expect(store.rows.map((row) => row.updateId)).toEqual([501, 502]);
  });

  it('is handed the bot without its token or secret, however it looks at it', async () => {
    const store = app.app.get(AuditStore);
    expect((await post(JSON.stringify(realisticUpdate(503)))).status).toBe(200);
    const bot = store.bots.at(-1);
    expect(bot).toMatchObject({ id: BOT_ID, idText: String(BOT_ID), username: 'plugin_test_bot' });
    const seen = [
      JSON.stringify(bot),
      inspect(bot, { showHidden: true, depth: Infinity, getters: true }),
      JSON.stringify(Object.getOwnPropertyNames(bot).map((key) => (bot as Record<string, unknown>)[key])),
    ].join('\n');
    for (const secret of [TOKEN, TOKEN.split(':')[1] as string, SECRET]) expect(seen).not.toContain(secret);
  });
});
