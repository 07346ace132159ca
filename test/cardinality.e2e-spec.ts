/**
 * Update kinds are input: a sender may put any well-formed name beside `update_id`. Metric series
 * and the caches kept per kind must not grow with them (issue #16: 326,000 distinct kinds made
 * /metrics 57 MB and grew RSS by 234 MB). Unknown kinds are still forwarded under their own name.
 */
import { Injectable } from '@nestjs/common';
import type { PerBotKind } from '../src/common/per-bot-kind.js';
import { MetricsService } from '../src/metrics/metrics.service.js';
import { PublishService } from '../src/publisher/publish.service.js';
import type {
  InboundUpdate,
  PublisherHealth,
  PublishResult,
  UpdatePublisher,
} from '../src/publisher/publisher.interface.js';
import { hookEnv, startApp, type TestApp } from './support/app.js';
import { FakeBotApi } from './support/fake-bot-api.js';

const TOKEN = '999016:AAH_cardinality-test-bot-token';
const BOT_ID = 999016;
const SECRET = 'cardinality_secret';
/** Distinct kinds posted: enough that growth per kind would show as megabytes. */
const KINDS = 100_000;
const BATCH = 500;

/** A target that takes every update at once, so the test measures the receiver alone. */
@Injectable()
class SinkPublisher implements UpdatePublisher {
  static count = 0;
  static kinds = new Map<number, string>();
  readonly name = 'sink';

  publish(update: InboundUpdate): Promise<PublishResult> {
    SinkPublisher.count++;
    if (update.updateId % 10_000 === 0) SinkPublisher.kinds.set(update.updateId, update.type);
    return Promise.resolve('published');
  }

  health(): PublisherHealth {
    return { up: true };
  }
}

describe('kinds from input', () => {
  let api: FakeBotApi;
  let app: TestApp;

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [{ token: TOKEN, id: BOT_ID, username: 'cardinality_bot' }] });
    app = await startApp(
      {
        ...hookEnv(api.url, TOKEN, SECRET),
        METRICS_ENABLED: 'true',
        // The in-memory dedup store keeps what it is told to; bound it so only the caches under test could grow.
        DEDUP_MAX_ENTRIES: '1000',
      },
      { publishers: [SinkPublisher] },
    );
  });
  afterAll(async () => {
    await app?.close();
    await api?.close();
  });

  const post = (body: string) =>
    app.app.inject({
      method: 'POST',
      url: '/hook',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
      payload: body,
    });

  it(`keeps /metrics and the per-kind caches small after ${KINDS} distinct kinds`, async () => {
    for (let start = 0; start < KINDS; start += BATCH) {
      const answers = await Promise.all(
        Array.from({ length: BATCH }, (_, i) => post(`{"update_id":${start + i + 1},"k${start + i}":{}}`)),
      );
      const refused = answers.find((answer) => answer.statusCode !== 200);
      if (refused) throw new Error(`update answered ${refused.statusCode}: ${refused.body}`);
    }
    // A redelivery of the last one: counted as a duplicate under `other` too.
    expect((await post(`{"update_id":${KINDS},"k${KINDS - 1}":{}}`)).statusCode).toBe(200);
    expect((await post('{"update_id":200000,"message":{}}')).statusCode).toBe(200);

    // Forwarded untouched, under their own names.
    expect(SinkPublisher.count).toBe(KINDS + 1);
    expect(SinkPublisher.kinds.get(10_000)).toBe('k9999');

    const metrics = await app.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body.length).toBeLessThan(100_000);
    expect(metrics.body).not.toMatch(/type="k\d+"/);
    const bot = `bot="${BOT_ID}"`;
    expect(metrics.body).toContain(
      `telegram_receiver_updates_received_total{${bot},type="other"} ${KINDS + 1}`,
    );
    expect(metrics.body).toContain(
      `telegram_receiver_updates_published_total{${bot},type="other",target="sink"} ${KINDS}`,
    );
    expect(metrics.body).toContain(`telegram_receiver_updates_duplicate_total{${bot},type="other"} 1`);
    expect(metrics.body).toContain(`telegram_receiver_updates_received_total{${bot},type="message"} 1`);

    // What no scrape shows: the cells and routes kept per bot and kind (private; read for this test).
    const metricsService: object = app.app.get(MetricsService);
    const publishService: object = app.app.get(PublishService);
    const tallies = (metricsService as { tallies: PerBotKind<unknown> }).tallies;
    const routes = (publishService as { routes: PerBotKind<unknown> }).routes;
    // `other` and `message`, for the one bot; the route cache: `message` (bots without routes share slot 0).
    expect(tallies.size(app.config.bots[0]?.index ?? -1)).toBe(2);
    expect(routes.size(0)).toBe(1);
  });
});
