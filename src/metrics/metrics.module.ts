import { Global, Module, type DynamicModule } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { BotRegistry } from '../bots/bot-registry.service.js';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService, type BotCount } from './metrics.service.js';

/** Counters for every module; the `/metrics` route only when METRICS_ENABLED. */
@Global()
@Module({})
export class MetricsModule {
  static forRoot(enabled: boolean): DynamicModule {
    return {
      module: MetricsModule,
      controllers: enabled ? [MetricsController] : [],
      providers: [
        {
          provide: MetricsService,
          inject: [RECEIVER_CONFIG, ModuleRef],
          useFactory: (config: ReceiverConfig, moduleRef: ModuleRef) =>
            new MetricsService(config, servedBots(moduleRef)),
        },
      ],
      exports: [MetricsService],
    };
  }
}

/**
 * The number of bots served decides whether series are per bot (METRICS_PER_BOT unset): the
 * BotRegistry's size, found wherever the application has it. Not an import of BotsModule, which
 * identifies the bots (getMe) at start: a module that only counts must not make that happen.
 */
function servedBots(moduleRef: ModuleRef): BotCount {
  let registry: BotRegistry | undefined;
  return {
    get size(): number {
      registry ??= find(moduleRef);
      return registry?.size ?? 0;
    },
  };
}

function find(moduleRef: ModuleRef): BotRegistry | undefined {
  try {
    return moduleRef.get(BotRegistry, { strict: false });
  } catch {
    return undefined; // an application without bots (a test of one module, the CLI)
  }
}
