/** A target did not confirm an update; the webhook answers 503 so Telegram sends it again. */
export class PublishError extends Error {
  constructor(
    readonly target: string,
    reason: string,
  ) {
    super(`publish to ${target} failed: ${reason}`);
    this.name = 'PublishError';
  }
}
