import { jest } from '@jest/globals';
import { BotRegistry } from '../bots/bot-registry.service.js';
import type { BotStore } from '../bots/store/bot-store.service.js';
import { loadConfig } from '../config/load-settings.js';
import type { TelegramClient } from '../telegram/telegram.client.js';
import { WebhookReconciler } from './webhook-reconciler.service.js';
import type { WebhookRegistrar } from './webhook-registrar.service.js';
import type { WebhookStates } from './webhook-states.js';

const TOKEN = '734001:AAH_reconciler-token';

describe('WebhookReconciler with the shared bot store', () => {
  function build(current: boolean) {
    const config = loadConfig({
      ENV_FILE: '/nonexistent/.env',
      TELEGRAM_TOKEN: TOKEN,
      WEBHOOK_DOMAIN: 'bot.example.com',
    });
    const registry = new BotRegistry();
    registry.add(config.bots[0]!, 734001, 'reconciled');
    const telegram = { call: jest.fn(() => Promise.resolve({ url: '' })) };
    const registrar = {
      managing: true,
      webhookUrl: () => 'https://bot.example.com/x',
      matches: () => false,
      register: jest.fn(() => Promise.resolve()),
    };
    const store = { isCurrent: jest.fn(() => Promise.resolve(current)) };
    const sut = new WebhookReconciler(
      config,
      telegram as unknown as TelegramClient,
      registry,
      registrar as unknown as WebhookRegistrar,
      { record: () => undefined } as unknown as WebhookStates,
      store as unknown as BotStore,
    );
    return { sut, registrar, store };
  }

  it('sets a drifted webhook again when this replica is at the store’s version', async () => {
    const { sut, registrar, store } = build(true);
    await sut.reconcile();
    expect(store.isCurrent).toHaveBeenCalled();
    expect(registrar.register).toHaveBeenCalledTimes(1);
  });

  it('sets nothing while this replica is behind the store: the bot may have been deleted since', async () => {
    const { sut, registrar } = build(false);
    await sut.reconcile();
    expect(registrar.register).not.toHaveBeenCalled();
  });
});
