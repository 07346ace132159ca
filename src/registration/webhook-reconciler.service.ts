import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { BotRegistry } from '../bots/bot-registry.service.js';
import { BotStore } from '../bots/store/bot-store.service.js';
import { errorMessage } from '../common/error-message.js';
import { forEachLimited } from '../common/for-each-limited.js';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { BOT_API_CONCURRENCY, TelegramClient } from '../telegram/telegram.client.js';
import type { WebhookInfo } from '../telegram/telegram.types.js';
import { WebhookRegistrar } from './webhook-registrar.service.js';
import { WebhookStates } from './webhook-states.js';

/**
 * Keeps every webhook registered: every WEBHOOK_RECONCILE_SECONDS it re-reads each bot's webhook,
 * records what it saw (`/status`, `/metrics`) and re-sets one that drifted (removed or changed
 * behind the service's back). Stored bots (BOTS_STORE=redis) are routed bots like the others.
 */
@Injectable()
export class WebhookReconciler implements OnApplicationBootstrap {
  private readonly logger = new Logger(WebhookReconciler.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    @Inject(RECEIVER_CONFIG) private readonly config: ReceiverConfig,
    private readonly telegram: TelegramClient,
    private readonly registry: BotRegistry,
    private readonly registrar: WebhookRegistrar,
    private readonly states: WebhookStates,
    private readonly store: BotStore,
  ) {}

  onApplicationBootstrap(): void {
    const seconds = this.config.settings.WEBHOOK_RECONCILE_SECONDS;
    if (!this.registrar.managing || seconds === 0) return;
    this.timer = setInterval(() => {
      this.running ??= this.reconcile().finally(() => (this.running = undefined));
    }, seconds * 1000);
    this.timer.unref();
  }

  /** Stops the timer and waits for a round under way (at shutdown, before webhooks are deleted). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async reconcile(): Promise<void> {
    await forEachLimited(this.registry.all(), BOT_API_CONCURRENCY, async (bot) => {
      try {
        const info = await this.telegram.call<WebhookInfo>(bot.token, 'getWebhookInfo', {});
        // A bot removed or changed since this round began is not this round's to set again.
        if (!this.registry.routes(bot)) return;
        this.states.record(bot, info, this.registrar.webhookUrl(bot));
        if (this.registrar.matches(bot, info)) return;
        this.logger.warn(
          `Webhook of ${bot.label} drifted (now ${info.url ? 'another URL' : 'unset'}): setting it again`,
        );
        // A replica behind the shared store may hold a bot deleted since: it sets nothing until
        // it has caught up (isCurrent asks for the resync).
        if (!(await this.store.isCurrent())) return;
        await this.registrar.register(bot);
      } catch (error) {
        this.logger.warn(`Reconciling the webhook of ${bot.label} failed: ${errorMessage(error)}`);
      }
    });
  }
}
