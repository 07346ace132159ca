/** A Bot API answer with `ok: false`. The message carries Telegram's description, never the token. */
export class TelegramApiError extends Error {
  constructor(
    readonly method: string,
    readonly errorCode: number,
    readonly description: string,
    readonly retryAfter?: number,
  ) {
    super(`${method} failed: ${errorCode} ${description}`);
    this.name = 'TelegramApiError';
  }
}

/**
 * The Bot API could not be reached (connection refused, DNS, timeout) — worth retrying. The
 * message names the setting and the host it points at (never a path: it holds the token).
 */
export class TelegramNetworkError extends Error {
  constructor(
    readonly method: string,
    reason: string,
    apiUrl: string,
  ) {
    super(`${method}: TELEGRAM_API_URL ${apiUrl} ${reason}`);
    this.name = 'TelegramNetworkError';
  }
}
