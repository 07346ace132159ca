import { expect } from '@jest/globals';
import type { TestApp } from './app.js';
import type { PrivateBroker } from './brokers.js';
import { realisticUpdate } from './fake-bot-api.js';
import { readStatus, type StatusBody } from './webhook-client.js';
import { waitUntil } from './wait.js';

export interface OutageScenario {
  /** A private broker, stopped and started by the scenario (never a shared one). */
  readonly broker: Pick<PrivateBroker, 'stop' | 'start'>;
  /** The target's name at /status. */
  readonly target: string;
  /** Starts the app publishing to the broker (called while the broker is down) with this PUBLISH_TIMEOUT_MS. */
  boot(publishTimeoutMs: string): Promise<TestApp>;
  post(app: TestApp, body: string): Promise<Response>;
  /** Checks of its own on what /status answered while the broker was down. */
  onDown?(status: StatusBody): void;
  /** Called once the broker is back and /status says ready, before an update is posted (subscribe here). */
  onBack?(app: TestApp): Promise<void>;
  /** How long the broker may take to be reported ready again. */
  readonly recoveryMs?: number;
}

/**
 * The outage every broker target must live through, as Telegram sees it: down at boot (the service
 * starts anyway, reports it, connects once the broker is there), then down while running — each
 * update answered 503 + Retry-After at once and /status 503 naming the target — and back without
 * a restart. Posts updates 1 and 2, each answered 200 once; the caller checks the broker holds them.
 */
export async function brokerOutage(scenario: OutageScenario): Promise<TestApp> {
  const { broker, target, post } = scenario;
  const recoveryMs = scenario.recoveryMs ?? 15_000;
  const update = (id: number): string => JSON.stringify(realisticUpdate(id));
  const backAgain = async (app: TestApp): Promise<void> => {
    await broker.start();
    await waitUntil(async () => (await readStatus(app)).code === 200, recoveryMs);
    await scenario.onBack?.(app);
  };

  await broker.stop();
  const app = await scenario.boot(String(PUBLISH_TIMEOUT_MS));
  expect((await readStatus(app)).body.error?.[target]?.status).toBe('down');
  expect((await post(app, update(1))).status).toBe(503);
  await backAgain(app);
  expect((await post(app, update(1))).status).toBe(200);

  await broker.stop();
  const started = Date.now();
  const refused = await post(app, update(2));
  expect(refused.status).toBe(503);
  expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
  // Refused by the client at once, not after PUBLISH_TIMEOUT_MS: nothing waits in an offline buffer.
  expect(Date.now() - started).toBeLessThan(PUBLISH_TIMEOUT_MS);
  const down = await readStatus(app);
  expect(down.code).toBe(503);
  expect(down.body.error?.[target]?.status).toBe('down');
  scenario.onDown?.(down.body);
  await backAgain(app);
  expect((await post(app, update(2))).status).toBe(200);
  return app;
}

/** Long enough that an answer that waited for it stands out from one refused at once. */
const PUBLISH_TIMEOUT_MS = 10_000;
