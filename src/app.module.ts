import { Module, type DynamicModule, type ModuleMetadata, type Type } from '@nestjs/common';
import { AdminModule } from './admin/admin.module.js';
import { ReceiverConfigModule } from './config/config.module.js';
import type { ReceiverConfig } from './config/load-settings.js';
import { HealthModule } from './health/health.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { OpsModule } from './ops/ops.module.js';
import { PollingModule } from './polling/polling.module.js';
import { PublisherModule } from './publisher/publisher.module.js';
import type { UpdatePublisher } from './publisher/publisher.interface.js';
import { BotsModule } from './bots/bots.module.js';
import { RedisModule } from './redis/redis.module.js';
import { RegistrationModule } from './registration/registration.module.js';
import { WebhookModule } from './webhook/webhook.module.js';

export interface AppModuleOptions {
  /** The validated configuration (`configFromProcess()` in production, `loadConfig({...})` in tests). */
  config: ReceiverConfig;
  /** Extra publishing targets: providers implementing `UpdatePublisher`. */
  publishers?: Type<UpdatePublisher>[];
  /** Modules those publishers depend on. */
  imports?: ModuleMetadata['imports'];
}

/** The receiver: webhook in, brokers out, Bot API registration, and `/status`. */
@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions): DynamicModule {
    const { config } = options;
    return {
      module: AppModule,
      imports: [
        ReceiverConfigModule.forRoot(config),
        LoggingModule.forRoot(config),
        OpsModule,
        MetricsModule.forRoot(config.settings.METRICS_ENABLED),
        RedisModule.forRoot(config.settings),
        BotsModule,
        PublisherModule.forRoot(config, { publishers: options.publishers, imports: options.imports }),
        WebhookModule,
        RegistrationModule,
        AdminModule,
        // Loaded only with ADMIN_PORT: without it, no admin route exists on any port.
        ...(config.settings.ADMIN_PORT === undefined
          ? []
          : [import('./admin/api/admin-api.module.js').then((m) => ({ module: m.AdminApiModule }))]),
        ...(config.settings.TELEGRAM_MODE === 'polling' ? [PollingModule] : []),
        ...(config.settings.WEBHOOK_STATUS_ENDPOINT ? [HealthModule] : []),
      ],
    };
  }
}
