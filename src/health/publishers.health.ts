import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { ShutdownState } from '../common/shutdown.state.js';
import { UPDATE_PUBLISHERS } from '../publisher/publisher.constants.js';
import type { UpdatePublisher } from '../publisher/publisher.interface.js';
import { errorMessage } from '../common/error-message.js';

/**
 * Readiness of the publishing side: each target's connection state as the client already knows
 * it (no new connection per probe), and whether shutdown has begun.
 */
@Injectable()
export class PublishersHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    @Inject(UPDATE_PUBLISHERS) private readonly publishers: readonly UpdatePublisher[],
    private readonly shutdown: ShutdownState,
  ) {}

  checks(): Array<() => HealthIndicatorResult> {
    return [
      () => {
        const session = this.health.check('accepting');
        return this.shutdown.draining ? session.down({ reason: 'shutting down' }) : session.up();
      },
      ...this.publishers.map((publisher) => () => {
        const session = this.health.check(publisher.name);
        try {
          const state = publisher.health();
          return state.up ? session.up() : session.down({ reason: state.reason ?? 'down' });
        } catch (error) {
          // An indicator never throws: a throw would turn the 503 into a 500.
          return session.down({ reason: errorMessage(error) });
        }
      }),
    ];
  }
}
