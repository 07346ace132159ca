import { Injectable } from '@nestjs/common';
import type { Bot } from '../bots/bot.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { WebhookInfo } from '../telegram/telegram.types.js';

/** What the service knows of one bot's webhook, from its own calls and the reconciler's reads. */
export interface WebhookState {
  registered: boolean;
  pendingUpdateCount?: number;
  lastErrorDate?: number;
  lastErrorMessage?: string;
  checkedAt?: number;
}

/** Each bot's webhook as last seen, for `/status` and the webhook gauges in `/metrics`. */
@Injectable()
export class WebhookStates {
  /** Per bot id. */
  private readonly states = new Map<number, WebhookState>();

  constructor(metrics: MetricsService) {
    // Read at each scrape, per bot or summed up (METRICS_PER_BOT): nothing to update here.
    metrics.watchWebhooks(this.states);
  }

  get(botId: number): WebhookState | undefined {
    return this.states.get(botId);
  }

  /** What getWebhookInfo said; `registered` when Telegram has `expectedUrl`. */
  record(bot: Bot, info: WebhookInfo, expectedUrl: string): void {
    const registered = info.url === expectedUrl;
    this.states.set(bot.id, {
      registered,
      pendingUpdateCount: info.pending_update_count,
      lastErrorDate: info.last_error_date,
      lastErrorMessage: info.last_error_message,
      checkedAt: Date.now(),
    });
  }

  /** The bot is no longer served: its state and its series go. */
  forget(bot: Bot): void {
    this.states.delete(bot.id);
  }

  /** setWebhook succeeded. */
  registered(bot: Bot): void {
    this.states.set(bot.id, { ...this.states.get(bot.id), registered: true });
  }
}
