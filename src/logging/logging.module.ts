import { Module, type DynamicModule } from '@nestjs/common';
import { LoggerModule, type Params } from 'nestjs-pino';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import type { LogLevel } from '../config/settings.js';
import { configSecrets, knownSecrets, scrubbingHooks, SecretScrubber } from './secret-scrubber.js';

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
 * registration, outages. Messages never carry tokens or secrets; behind that, redaction blanks
 * known fields, and every serialized line is scrubbed of the configuration's tokens and secrets
 * (a Bot API error may echo the request path, `/bot<token>/…`).
 *
 * Exports the process's {@link SecretScrubber}: what adds a bot at run time adds its secrets there.
 */
@Module({})
export class LoggingModule {
  static forRoot(level: LogLevel): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRootAsync({
          inject: [RECEIVER_CONFIG],
          useFactory: (config: ReceiverConfig): Params => {
            // Before the logger exists, so the start-up lines buffered until then are scrubbed too.
            knownSecrets.add(...configSecrets(config));
            return {
              pinoHttp: {
                level,
                autoLogging: false,
                redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
                base: { service: 'telegram-receiver' },
                hooks: scrubbingHooks,
              },
              // The request-scoped logger middleware is not mounted at all (see above).
              forRoutes: [],
            };
          },
        }),
      ],
      providers: [{ provide: SecretScrubber, useValue: knownSecrets }],
      exports: [LoggerModule, SecretScrubber],
    };
  }
}
