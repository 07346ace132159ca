import { Global, Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { ShutdownState } from '../common/shutdown.state.js';
import { RECEIVER_CONFIG } from './config.constants.js';
import type { ReceiverConfig } from './load-settings.js';

/**
 * Makes the validated configuration available everywhere: typed as `ReceiverConfig` under
 * RECEIVER_CONFIG, and through `ConfigService` for teams' own providers.
 */
@Global()
@Module({})
export class ReceiverConfigModule {
  static forRoot(config: ReceiverConfig): DynamicModule {
    return {
      module: ReceiverConfigModule,
      imports: [
        ConfigModule.forRoot({
          // The environment was already read and validated once by loadConfig.
          ignoreEnvFile: true,
          ignoreEnvVars: true,
          skipProcessEnv: true,
          load: [() => ({ ...config.settings })],
        }),
      ],
      providers: [{ provide: RECEIVER_CONFIG, useValue: config }, ShutdownState],
      exports: [RECEIVER_CONFIG, ShutdownState, ConfigModule],
    };
  }
}
