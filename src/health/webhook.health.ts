import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { BotRegistry } from '../bots/bot-registry.service.js';
import { WebhookStates } from '../registration/webhook-states.js';

/**
 * Reports each bot's webhook registration as last seen (start-up, or the reconciler). A webhook
 * that drifted (set elsewhere, deleted, or not yet registered) makes it `degraded` — the overall
 * status says so and the answer stays 200: it is the reconciler's to fix, and taking every replica
 * out of the Service for it would make things worse.
 */
@Injectable()
export class WebhookHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly states: WebhookStates,
    private readonly bots: BotRegistry,
    @Inject(RECEIVER_CONFIG) private readonly config: ReceiverConfig,
  ) {}

  check(): HealthIndicatorResult {
    const session = this.health.check('webhook');
    const { settings } = this.config;
    if (settings.TELEGRAM_MODE === 'polling' || !settings.TELEGRAM_SET_WEBHOOK) {
      return session.up({ managed: false });
    }
    const bots = this.bots.all().map((bot) => {
      const state = this.states.get(bot.id);
      return {
        bot: bot.id,
        registered: state?.registered ?? false,
        pending_update_count: state?.pendingUpdateCount,
        last_error_date: state?.lastErrorDate,
        last_error_message: state?.lastErrorMessage,
      };
    });
    return bots.every((bot) => bot.registered)
      ? session.up({ managed: true, bots })
      : session.degraded({ managed: true, bots });
  }
}
