import { Inject, Injectable, Logger, Optional, type OnModuleDestroy } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import type { Bot } from '../bots/bot.js';
import { BotRegistry } from '../bots/bot-registry.service.js';
import { errorMessage } from '../common/error-message.js';
import { forEachLimited } from '../common/for-each-limited.js';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { REDIS_CONNECTION } from '../redis/redis.constants.js';
import { BOT_API_CONCURRENCY, TelegramClient } from '../telegram/telegram.client.js';
import { WebhookLease } from './webhook-lease.service.js';
import { WebhookReconciler } from './webhook-reconciler.service.js';
import { WebhookRegistrar } from './webhook-registrar.service.js';

/** How long the replica that claimed a bot's removal holds the claim: the others skip it meanwhile. */
const REMOVAL_CLAIM_MS = 60_000;

/**
 * A bot removed while running (BOTS_FILE reload, admin API, the shared store): deleteWebhook by
 * one replica — the one that claims the removal first in Redis; without Redis, this one.
 * At shutdown: deletes the webhooks when TELEGRAM_DELETE_WEBHOOK is on and no other replica still
 * serves the bots (the Redis lease), never dropping pending updates — except with BOTS_STORE=redis,
 * whose bots keep their webhooks.
 */
@Injectable()
export class WebhookRemover implements OnModuleDestroy {
  private readonly logger = new Logger(WebhookRemover.name);

  constructor(
    @Inject(RECEIVER_CONFIG) private readonly config: ReceiverConfig,
    private readonly telegram: TelegramClient,
    private readonly registry: BotRegistry,
    private readonly reconciler: WebhookReconciler,
    private readonly lease: WebhookLease,
    private readonly registrar: WebhookRegistrar,
    @Optional() @Inject(REDIS_CONNECTION) private readonly redis?: Redis | Cluster,
  ) {}

  /**
   * deleteWebhook for a bot no longer served, once across the replicas that all saw it go;
   * `removal` names this removal (a store version, a file's hash) so a later one is claimed anew.
   * Never throws: a failure is logged, and Telegram keeps retrying a URL that answers 404.
   */
  async removeWebhook(bot: Bot, removal: string, dropPending = false): Promise<void> {
    if (!this.registrar.managing) return;
    try {
      if (this.redis) {
        const key = `${this.config.settings.REDIS_QUEUE_NAME}:bots:removal:${bot.idText}:${removal}`;
        const won = await this.redis.set(key, this.lease.replicaId, 'PX', REMOVAL_CLAIM_MS, 'NX');
        if (won === null) return;
      }
      await this.telegram.call(bot.token, 'deleteWebhook', { drop_pending_updates: dropPending });
      this.logger.log(
        `Webhook deleted for ${bot.label}, no longer served${dropPending ? '; pending updates dropped' : ''}`,
      );
    } catch (error) {
      this.logger.error(`deleteWebhook failed for ${bot.label}, no longer served: ${errorMessage(error)}`);
    }
  }

  async onModuleDestroy(): Promise<void> {
    // A reconciler round must not set a webhook again after it was deleted.
    await this.reconciler.stop();
    if (this.config.settings.TELEGRAM_MODE === 'polling') return;
    let last: boolean;
    try {
      last = await this.lease.release();
    } catch (error) {
      // Unsure whether other replicas run: keeping the webhook is the safe side.
      this.logger.warn(`Replica lease unreadable (${errorMessage(error)}): webhook kept`);
      return;
    }
    if (!this.config.settings.TELEGRAM_DELETE_WEBHOOK) return;
    if (this.config.settings.BOTS_STORE === 'redis') {
      // The store's bots outlive the replicas, and a replica starting sets no webhook for them:
      // deleting one is DELETE /bots' to do.
      this.logger.log('Bots of the shared store (BOTS_STORE=redis) keep their webhooks');
      return;
    }
    if (!last) {
      this.logger.log('Other replicas still serve these bots: webhook kept');
      return;
    }
    await forEachLimited(this.registry.all(), BOT_API_CONCURRENCY, async (bot) => {
      try {
        // One attempt with a short timeout: shutdown must not wait on the Bot API's retries.
        await this.telegram.call(bot.token, 'deleteWebhook', { drop_pending_updates: false }, 5000);
        this.logger.log(`Webhook deleted for ${bot.label}; pending updates are kept by Telegram`);
      } catch (error) {
        this.logger.error(`deleteWebhook failed for ${bot.label}: ${errorMessage(error)}`);
      }
    });
  }
}
