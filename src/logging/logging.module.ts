import { Module, type DynamicModule } from '@nestjs/common';
import type { ReceiverConfig } from '../config/load-settings.js';
import { configSecrets, knownSecrets, SecretScrubber } from './secret-scrubber.js';

/**
 * Logs are JSON lines (`service-logger.ts`), one per thing that needs a human — rejected requests
 * (rate-limited), publish failures, registration, outages, shutdown — never one per update: a busy
 * bot would pay for it on every request. Messages never carry tokens or secrets; behind that,
 * redaction blanks known fields, and every serialized line is scrubbed of the configuration's
 * tokens and secrets (a Bot API error may echo the request path, `/bot<token>/…`).
 *
 * Exports the process's {@link SecretScrubber}: what adds a bot at run time adds its secrets there.
 */
@Module({})
export class LoggingModule {
  static forRoot(config: ReceiverConfig): DynamicModule {
    knownSecrets.add(...configSecrets(config));
    return {
      module: LoggingModule,
      global: true,
      providers: [{ provide: SecretScrubber, useValue: knownSecrets }],
      exports: [SecretScrubber],
    };
  }
}
