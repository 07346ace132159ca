import { Inject, Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { TelegramApiError, TelegramNetworkError } from './telegram-api.error.js';
import type { BotUser, SetWebhookParams, WebhookInfo } from './telegram.types.js';

/** How long one HTTP call may take before it counts as a network error. */
const REQUEST_TIMEOUT_MS = 15_000;
const MAX_BACKOFF_MS = 5_000;

interface ApiAnswer<T> {
  ok: boolean;
  result?: T;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number };
}

/**
 * A small Bot API client. The token only ever goes into the request URL, which is never logged
 * or put into an error message.
 */
@Injectable()
export class TelegramClient {
  private readonly logger = new Logger(TelegramClient.name);
  private readonly baseUrl: string;
  private readonly retryTimeoutMs: number;

  constructor(@Inject(RECEIVER_CONFIG) config: ReceiverConfig) {
    this.baseUrl = config.settings.TELEGRAM_API_URL.replace(/\/+$/, '');
    this.retryTimeoutMs = config.settings.TELEGRAM_RETRY_TIMEOUT_MS;
  }

  getMe(token: string): Promise<BotUser> {
    return this.callWithRetry<BotUser>(token, 'getMe', {});
  }

  getWebhookInfo(token: string): Promise<WebhookInfo> {
    return this.callWithRetry<WebhookInfo>(token, 'getWebhookInfo', {});
  }

  setWebhook(token: string, params: SetWebhookParams): Promise<true> {
    return this.callWithRetry<true>(token, 'setWebhook', { ...params });
  }

  deleteWebhook(token: string, dropPendingUpdates = false): Promise<true> {
    return this.callWithRetry<true>(token, 'deleteWebhook', { drop_pending_updates: dropPendingUpdates });
  }

  /** One call, no retry. Throws TelegramApiError for `ok: false`, TelegramNetworkError when unreachable. */
  async call<T>(
    token: string,
    method: string,
    params: Record<string, unknown>,
    timeoutMs = REQUEST_TIMEOUT_MS,
  ): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}/bot${token}/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(params),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new TelegramNetworkError(method, describeNetworkError(error));
    }
    let answer: ApiAnswer<T>;
    try {
      answer = (await response.json()) as ApiAnswer<T>;
    } catch {
      throw new TelegramApiError(method, response.status, `non-JSON answer (HTTP ${response.status})`);
    }
    if (!answer.ok) {
      throw new TelegramApiError(
        method,
        answer.error_code ?? response.status,
        answer.description ?? 'no description',
        answer.parameters?.retry_after,
      );
    }
    return answer.result as T;
  }

  /**
   * Retries what Telegram says is temporary: 429 after `retry_after`, 5xx and network errors with
   * exponential backoff — all within TELEGRAM_RETRY_TIMEOUT_MS. Other errors (401, 400 …) are final.
   */
  async callWithRetry<T>(token: string, method: string, params: Record<string, unknown>): Promise<T> {
    const deadline = Date.now() + this.retryTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.call<T>(token, method, params);
      } catch (error) {
        const wait = retryDelay(error, attempt);
        if (wait === undefined || Date.now() + wait > deadline) throw error;
        this.logger.warn(`${(error as Error).message}; retrying in ${Math.ceil(wait / 100) / 10} s`);
        await sleep(wait);
      }
    }
  }
}

function retryDelay(error: unknown, attempt: number): number | undefined {
  if (error instanceof TelegramApiError) {
    if (error.errorCode === 429) return (error.retryAfter ?? 1) * 1000;
    if (error.errorCode >= 500) return Math.min(MAX_BACKOFF_MS, 250 * 2 ** attempt);
    return undefined;
  }
  if (error instanceof TelegramNetworkError) return Math.min(MAX_BACKOFF_MS, 250 * 2 ** attempt);
  return undefined;
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'timed out';
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
