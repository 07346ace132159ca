import { Inject, Injectable } from '@nestjs/common';
import type { BotIdentity } from '../bots/bot.js';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { encodePayload } from './payload.js';
import { PublishService } from './publish.service.js';
import type { PublishResult } from './publisher.interface.js';

/**
 * Where every update comes in, from the webhook and from polling alike: counted, wrapped as
 * PUBLISH_FORMAT says, then deduplicated and published by PublishService.
 */
@Injectable()
export class UpdateIntake {
  private readonly format: 'raw' | 'envelope';

  constructor(
    private readonly publisher: PublishService,
    private readonly metrics: MetricsService,
    @Inject(RECEIVER_CONFIG) config: ReceiverConfig,
  ) {
    this.format = config.settings.PUBLISH_FORMAT;
  }

  /**
   * Resolves once every target holds the update (`duplicate`: it already did); rejects with a
   * PublishError otherwise. `type` must already be a kind name (KIND_PATTERN).
   */
  take(
    bot: BotIdentity,
    updateId: number,
    type: string,
    raw: Buffer,
    receivedAt: number,
  ): Promise<PublishResult> {
    this.metrics.updateReceived(bot, type);
    // Not an async function: one promise fewer per update in flight (PublishService counts duplicates).
    return this.publisher.publish({
      bot,
      updateId,
      type,
      raw,
      payload: encodePayload(this.format, bot, updateId, type, raw, receivedAt),
      receivedAt,
    });
  }
}
