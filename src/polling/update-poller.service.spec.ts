import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReceiverConfig } from '../config/load-settings.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import { PublishError } from '../publisher/publish.error.js';
import type { PublishService } from '../publisher/publish.service.js';
import type { InboundUpdate } from '../publisher/publisher.interface.js';
import type { Bot, BotIdentity } from '../bots/bot.js';
import type { BotRegistry } from '../bots/bot-registry.service.js';
import { StartupError } from '../bots/startup.error.js';
import { UpdateIntake } from '../publisher/update-intake.service.js';
import { TelegramApiError } from '../telegram/telegram-api.error.js';
import type { GetUpdatesParams, RawUpdate, TelegramClient } from '../telegram/telegram.client.js';
import { UpdatePoller } from './update-poller.service.js';
import { waitUntil } from '../../test/support/wait.js';

const identity = { index: 1, id: 1, idText: '1', label: 'bot @one (TELEGRAM_TOKEN)' } as BotIdentity;
const bot = { ...identity, token: '1:x', identity } as unknown as Bot;
const message = (id: number): RawUpdate => ({ update_id: id, message: { message_id: id, text: `m${id}` } });

/** getUpdates as Telegram answers it: what is pending from `offset` on, or a wait until aborted. */
function fakeTelegram(pending: RawUpdate[], webhookSet = false) {
  const calls: GetUpdatesParams[] = [];
  const getUpdates = jest.fn(async (_token: string, params: GetUpdatesParams, signal?: AbortSignal) => {
    calls.push(params);
    if (webhookSet) {
      throw new TelegramApiError(
        'getUpdates',
        409,
        "Conflict: can't use getUpdates method while webhook is active",
      );
    }
    const offset = params.offset ?? 0;
    pending.splice(0, pending.length, ...pending.filter((u) => u.update_id >= offset));
    if (pending.length > 0 || !params.timeout) return pending.slice(0, params.limit ?? 100);
    await sleep(50, undefined, { signal }).catch(() => undefined);
    return [];
  });
  const deleteWebhook = jest.fn(() => {
    webhookSet = false;
    return Promise.resolve(true as const);
  });
  return { telegram: { getUpdates, deleteWebhook } as unknown as TelegramClient, calls, deleteWebhook };
}

function build(
  telegram: TelegramClient,
  publish: (u: InboundUpdate) => Promise<'published'>,
  deleteWebhook = false,
) {
  const config = {
    settings: { PUBLISH_FORMAT: 'raw', POLLING_DELETE_WEBHOOK: deleteWebhook },
    bots: [],
  } as unknown as ReceiverConfig;
  const registry = { all: () => [bot] } as unknown as BotRegistry;
  const publisher = { publish: jest.fn(publish) } as unknown as PublishService;
  const metrics = {
    updateReceived: jest.fn(),
    updateDuplicate: jest.fn(),
    requestRejected: jest.fn(),
  } as unknown as MetricsService;
  return new UpdatePoller(config, telegram, registry, new UpdateIntake(publisher, metrics, config), metrics);
}

const until = (condition: () => boolean, timeoutMs = 5000): Promise<void> =>
  waitUntil(condition, timeoutMs, 10);

describe('UpdatePoller', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  it('publishes every update in order and only then moves the offset past the batch', async () => {
    const pending = [message(10), message(11), message(12)];
    const { telegram, calls } = fakeTelegram(pending);
    const published: number[] = [];
    const sut = build(telegram, (u) => {
      published.push(u.updateId);
      expect(JSON.parse(u.raw.toString())).toEqual(message(u.updateId));
      expect(u.type).toBe('message');
      return Promise.resolve('published');
    });
    await sut.onApplicationBootstrap();
    await until(() => calls.some((c) => c.offset === 13));
    await sut.beforeApplicationShutdown();
    expect(published).toEqual([10, 11, 12]);
    expect(calls[0]).toMatchObject({ offset: undefined, timeout: 0 });
    expect(pending).toEqual([]);
  });

  it('keeps the offset while a publish fails and publishes the whole batch again', async () => {
    const pending = [message(20), message(21), message(22)];
    const { telegram, calls } = fakeTelegram(pending);
    let failures = 1;
    const attempts: number[] = [];
    const sut = build(telegram, (u) => {
      attempts.push(u.updateId);
      if (u.updateId === 21 && failures-- > 0) return Promise.reject(new PublishError('mqtt', 'down'));
      return Promise.resolve('published');
    });
    await sut.onApplicationBootstrap();
    await until(() => calls.some((c) => c.offset === 23), 10_000);
    await sut.beforeApplicationShutdown();
    // 20 is published again after the failure of 21 (dedup in PublishService makes it a no-op).
    expect(attempts).toEqual([20, 21, 20, 21, 22]);
    // No getUpdates acknowledged anything before the retried batch was confirmed.
    const offsets = calls.map((c) => c.offset);
    expect(offsets.indexOf(23)).toBeGreaterThan(0);
    expect(offsets.slice(0, offsets.indexOf(23)).every((o) => o === undefined)).toBe(true);
  });

  it('acknowledges nothing when stopped before a batch was confirmed', async () => {
    const pending = [message(30), message(31)];
    const { telegram, calls } = fakeTelegram(pending);
    const sut = build(telegram, () => new Promise((resolve) => setTimeout(() => resolve('published'), 100)));
    await sut.onApplicationBootstrap();
    await sut.beforeApplicationShutdown();
    expect(calls.every((c) => c.offset === undefined)).toBe(true);
    expect(pending.map((u) => u.update_id)).toEqual([30, 31]);
  });

  it('confirms the last published batch at shutdown', async () => {
    const pending = [message(40)];
    const { telegram, calls } = fakeTelegram(pending);
    const sut = build(telegram, () => Promise.resolve('published'));
    await sut.onApplicationBootstrap();
    await until(() => calls.length >= 2);
    await sut.beforeApplicationShutdown();
    expect(calls.at(-1)?.offset).toBe(41);
    expect(pending).toEqual([]);
  });

  it('stops the start on 409 Conflict, naming POLLING_DELETE_WEBHOOK', async () => {
    const { telegram } = fakeTelegram([message(1)], true);
    const sut = build(telegram, () => Promise.resolve('published'));
    const start = sut.onApplicationBootstrap();
    await expect(start).rejects.toThrow(StartupError);
    await expect(start).rejects.toThrow(/webhook set.*POLLING_DELETE_WEBHOOK=true/);
  });

  it('deletes the webhook first with POLLING_DELETE_WEBHOOK=true, keeping pending updates', async () => {
    const { telegram, deleteWebhook, calls } = fakeTelegram([message(50)], true);
    const published: number[] = [];
    const sut = build(
      telegram,
      (u) => {
        published.push(u.updateId);
        return Promise.resolve('published');
      },
      true,
    );
    await sut.onApplicationBootstrap();
    await until(() => calls.some((c) => c.offset === 51));
    await sut.beforeApplicationShutdown();
    expect(deleteWebhook).toHaveBeenCalledWith('1:x', false);
    expect(published).toEqual([50]);
  });
});
