/** Thrown when start-up cannot go on: the message names the bot by position, never by token. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}
