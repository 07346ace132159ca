import { Global, Module } from '@nestjs/common';
import { OpsPortGuard } from './ops-port.guard.js';
import { OpsServer } from './ops-server.service.js';

/** The internal listener of OPS_PORT and the guard that keeps `/status` and `/metrics` on it. */
@Global()
@Module({
  providers: [OpsServer, OpsPortGuard],
  exports: [OpsPortGuard],
})
export class OpsModule {}
