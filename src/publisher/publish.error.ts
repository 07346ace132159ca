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

/** The service is shutting down and takes no new updates: Telegram will resend them to a live replica. */
export class DrainingError extends Error {
  constructor() {
    super('shutting down');
    this.name = 'DrainingError';
  }
}
