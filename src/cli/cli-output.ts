import type { LoggerService } from '@nestjs/common';
import { knownSecrets } from '../logging/secret-scrubber.js';

/**
 * Where the CLI writes: its own output is the product here, so it goes to stdout/stderr directly
 * (not through Nest's Logger, which adds timestamps and context meant for service logs).
 */
export interface CliOutput {
  /** A line of the command's result, on stdout. */
  line(text: string): void;
  /** A warning, on stderr. */
  warn(text: string): void;
  /** An error, on stderr. */
  error(text: string): void;
  /** Text as-is on stderr (usage after a mistake). */
  stderr(text: string): void;
}

/**
 * The process's stdout and stderr, every write scrubbed of the secrets of the configuration a
 * command loaded (`loadCliConfig`): messages mask tokens themselves (`123456:***`), this is the
 * second line for text the CLI does not control, such as a Bot API error echoing `/bot<token>/…`.
 */
export const processOutput: CliOutput = {
  line: (text) => write(process.stdout, `${text}\n`),
  warn: (text) => write(process.stderr, `warning: ${text}\n`),
  error: (text) => write(process.stderr, `error: ${text}\n`),
  stderr: (text) => write(process.stderr, text),
};

function write(stream: NodeJS.WriteStream, text: string): void {
  stream.write(knownSecrets.scrub(text));
}

/**
 * Nest's Logger inside the shared services (the Telegram client's retry notices, the registrar)
 * while a CLI command runs: warnings and errors reach the user, progress logs stay quiet. They go
 * through `output`, which scrubs them like every other line (`processOutput`).
 */
export class CliLogger implements LoggerService {
  constructor(private readonly output: CliOutput) {}

  log(): void {}

  warn(message: unknown): void {
    this.output.warn(String(message));
  }

  error(message: unknown): void {
    this.output.error(String(message));
  }
}
