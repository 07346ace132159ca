/** Exit codes of the CLI. */
export const EXIT_OK = 0;
/** The operation failed: a token was rejected, a Bot API call failed, a check found a problem. */
export const EXIT_FAILED = 1;
/** The command cannot run as asked: invalid configuration, usage, or a missing setting. */
export const EXIT_USAGE = 2;

/** Ends a command with a message for the user (never a token or secret) and an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILED,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
