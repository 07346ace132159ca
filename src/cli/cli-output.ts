import type { LoggerService } from '@nestjs/common';

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

export const processOutput: CliOutput = {
  line: (text) => void process.stdout.write(`${text}\n`),
  warn: (text) => void process.stderr.write(`warning: ${text}\n`),
  error: (text) => void process.stderr.write(`error: ${text}\n`),
  stderr: (text) => void process.stderr.write(text),
};

/**
 * Nest's Logger inside the shared services (the Telegram client's retry notices, the registrar)
 * while a CLI command runs: warnings and errors reach the user, progress logs stay quiet.
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
