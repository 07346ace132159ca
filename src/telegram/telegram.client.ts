import { Inject, Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { TelegramApiError, TelegramNetworkError } from './telegram-api.error.js';
import { jsonBody, multipartBody, post, type HttpAnswer, type PostBody } from './http-post.js';
import type { BotUser, SetWebhookParams, WebhookInfo } from './telegram.types.js';
import { errorMessage } from '../common/error-message.js';
import { redactUrl } from '../common/redact.js';

/** getUpdates parameters (core.telegram.org/bots/api#getupdates). */
export interface GetUpdatesParams {
  offset?: number;
  limit?: number;
  /** Long-poll seconds. */
  timeout?: number;
  allowed_updates?: readonly string[];
}

/** One Update as getUpdates returns it: `update_id` plus one key naming its kind. */
export interface RawUpdate {
  update_id: number;
  [kind: string]: unknown;
}

/**
 * How many Bot API calls, each for a different bot, the service makes at once: at start-up (getMe,
 * getWebhookInfo, setWebhook), on reloads, in the reconciler and at shutdown. Telegram's limits are
 * per bot, so what bounds start-up is round trips: a bot needs one to three calls, and with
 * thousands of bots a handful at a time took minutes (see the README's sizing).
 */
export const BOT_API_CONCURRENCY = 200;

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
  call<T>(
    token: string,
    method: string,
    params: Record<string, unknown>,
    timeoutMs = REQUEST_TIMEOUT_MS,
  ): Promise<T> {
    // A timer cleared as soon as the answer is in, unlike AbortSignal.timeout, which holds its
    // resources for the full timeout — thousands of them right after starting many bots.
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new DOMException('timed out', 'TimeoutError')),
      timeoutMs,
    );
    return this.post<T>(token, method, jsonBody(params), controller.signal).finally(() =>
      clearTimeout(timer),
    );
  }

  /**
   * setWebhook with a self-signed certificate: the Bot API takes the PEM only as a multipart file
   * upload named `certificate` (core.telegram.org/bots/api#setwebhook). Retried like callWithRetry.
   */
  setWebhookWithCertificate(token: string, params: SetWebhookParams, certificatePem: string): Promise<true> {
    const file = {
      name: 'certificate',
      filename: 'certificate.pem',
      contentType: 'application/x-pem-file',
      content: certificatePem,
    };
    return this.retrying(() =>
      this.post<true>(
        token,
        'setWebhook',
        multipartBody({ ...params }, file),
        AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      ),
    );
  }

  /**
   * getUpdates long polling: Telegram holds the request up to `timeout` seconds until an update
   * arrives. `signal` ends the wait early (shutdown). No retry: the polling loop owns the backoff.
   */
  getUpdates(token: string, params: GetUpdatesParams, signal?: AbortSignal): Promise<RawUpdate[]> {
    // Give Telegram the whole long-poll window plus a margin before calling it a network error.
    const timeout = AbortSignal.timeout((params.timeout ?? 0) * 1000 + REQUEST_TIMEOUT_MS);
    return this.post<RawUpdate[]>(
      token,
      'getUpdates',
      jsonBody({ ...params }),
      signal ? AbortSignal.any([signal, timeout]) : timeout,
    );
  }

  private async post<T>(token: string, method: string, body: PostBody, signal: AbortSignal): Promise<T> {
    let response: HttpAnswer;
    try {
      response = await post(new URL(`${this.baseUrl}/bot${token}/${method}`), body, signal);
    } catch (error) {
      throw new TelegramNetworkError(method, describeNetworkError(error), redactUrl(this.baseUrl));
    }
    let answer: ApiAnswer<T>;
    try {
      answer = JSON.parse(response.body.toString('utf8')) as ApiAnswer<T>;
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
  callWithRetry<T>(token: string, method: string, params: Record<string, unknown>): Promise<T> {
    return this.retrying(() => this.call<T>(token, method, params));
  }

  private async retrying<T>(attemptCall: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.retryTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await attemptCall();
      } catch (error) {
        const wait = retryDelay(error, attempt);
        if (wait === undefined || Date.now() + wait > deadline) throw error;
        const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
        this.logger.warn(
          `${errorMessage(error)}; retrying in ${Math.ceil(wait / 100) / 10} s (for ${left} s more: TELEGRAM_RETRY_TIMEOUT_MS)`,
        );
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

/** What went wrong, worded to follow "TELEGRAM_API_URL <host> …". */
const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'refused the connection',
  ENOTFOUND: 'is a host name that does not resolve',
  EAI_AGAIN: 'is a host name that could not be resolved now',
  ECONNRESET: 'closed the connection before answering',
  ETIMEDOUT: 'did not answer in time',
  EHOSTUNREACH: 'is unreachable',
  ENETUNREACH: 'is on a network that is unreachable',
};

function describeNetworkError(error: unknown): string {
  // An aborted request rejects with an AbortError whose cause is the signal's reason.
  const reason = (error as { name?: string; cause?: { name?: string } }).cause;
  if ((error as { name?: string }).name === 'TimeoutError' || reason?.name === 'TimeoutError')
    return 'did not answer in time';
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const code = (error as { code?: string }).code ?? cause?.code;
  if (code !== undefined) return NETWORK_REASONS[code] ?? `could not be reached (${code})`;
  return `could not be reached (${cause?.message ?? errorMessage(error)})`;
}
