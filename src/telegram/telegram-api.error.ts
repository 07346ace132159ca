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

/** The Bot API could not be reached (connection refused, DNS, timeout) — worth retrying. */
export class TelegramNetworkError extends Error {
  constructor(
    readonly method: string,
    reason: string,
  ) {
    super(`${method} could not reach the Bot API: ${reason}`);
    this.name = 'TelegramNetworkError';
  }
}
