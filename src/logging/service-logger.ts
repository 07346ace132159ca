import type { LoggerService } from '@nestjs/common';
import { pino, type Logger as Pino } from 'pino';
import type { LogLevel } from '../config/settings.js';
import { scrubbingHooks } from './secret-scrubber.js';

/** Paths pino blanks out wherever they appear in a log record. */
export const REDACTED_PATHS = [
  'req.headers["x-telegram-bot-api-secret-token"]',
  'req.headers.authorization',
  'req.url',
  'token',
  'secret',
  '*.token',
  '*.secret',
];

/**
 * The service's pino logger: one JSON line per record, written as it happens (no buffering), every
 * line scrubbed of the known tokens and secrets (`scrubbingHooks`).
 */
export function createServicePino(level: LogLevel): Pino {
  return pino({
    level,
    base: { service: 'telegram-receiver' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    hooks: scrubbingHooks,
  });
}

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * Nest's logger on that pino instance, from the service's first line on: start-up lines stream
 * in order with their own timestamps instead of being held back until start-up finishes.
 * Records look as nestjs-pino's did: `{"level":…,"time":…,"service":…,"context":"Class","msg":…}`.
 */
export class PinoNestLogger implements LoggerService {
  constructor(readonly pino: Pino) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }

  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }

  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  /** Nest passes `(message, context)`, and for errors `(message, stack, context)`. */
  private write(level: Level, message: unknown, rest: unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? rest.pop() : undefined;
    const stack = rest.find((item): item is string => typeof item === 'string' && item.includes('\n    at '));
    const fields = { ...(context !== undefined && { context }), ...(stack !== undefined && { stack }) };
    if (message instanceof Error) this.pino[level]({ ...fields, err: message }, message.message);
    else if (typeof message === 'object' && message !== null) this.pino[level]({ ...fields, ...message });
    else this.pino[level](fields, String(message));
  }
}
