import { Injectable } from '@nestjs/common';
import type {
  PublisherHealth,
  PublishResult,
  UpdatePublisher,
} from '../../src/publisher/publisher.interface.js';

/** A target that takes every update at once, for tests of what happens before publishing. */
@Injectable()
export class SinkPublisher implements UpdatePublisher {
  readonly name = 'sink';

  publish(): Promise<PublishResult> {
    return Promise.resolve('published');
  }

  health(): PublisherHealth {
    return { up: true };
  }
}
