import { Global, Module, type DynamicModule } from '@nestjs/common';
import { BotsModule } from '../bots/bots.module.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';

/** Counters for every module; the `/metrics` route only when METRICS_ENABLED. */
@Global()
@Module({})
export class MetricsModule {
  static forRoot(enabled: boolean): DynamicModule {
    return {
      module: MetricsModule,
      // The number of bots served decides whether series are per bot (METRICS_PER_BOT unset).
      imports: [BotsModule],
      controllers: enabled ? [MetricsController] : [],
      providers: [MetricsService],
      exports: [MetricsService],
    };
  }
}
