import { Injectable } from '@nestjs/common';

/**
 * Whether the service has begun shutting down. Set once, first thing on SIGTERM: readiness then
 * answers 503 and new webhook requests are turned away with 503 + Retry-After.
 */
@Injectable()
export class ShutdownState {
  private started = false;

  get draining(): boolean {
    return this.started;
  }

  begin(): void {
    this.started = true;
  }
}
