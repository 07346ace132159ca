import { Module, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { LogLevel } from '../config/settings.js';

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
 * Structured JSON logs through nestjs-pino. No per-request lines: a busy bot would pay for them on
 * every update. What is logged is what needs a human: rejected requests, publish failures,
 * registration, outages. Messages never carry tokens or secrets, and redaction is the second line.
 */
@Module({})
export class LoggingModule {
  static forRoot(level: LogLevel): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level,
            autoLogging: false,
            redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
            base: { service: 'telegram-receiver' },
          },
          // The request-scoped logger middleware is not mounted at all (see above).
          forRoutes: [],
        }),
      ],
      exports: [LoggerModule],
    };
  }
}
