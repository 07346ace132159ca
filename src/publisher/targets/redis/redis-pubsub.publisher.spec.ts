import { jest } from '@jest/globals';
import type { ReceiverConfig } from '../../../config/load-settings.js';
import { inboundUpdate } from '../../../../test/support/inbound-update.js';
import type { Redis } from 'ioredis';
import type { RedisState } from '../../../redis/redis-state.js';
import { RedisPubSubPublisher } from './redis-pubsub.publisher.js';

describe('RedisPubSubPublisher', () => {
  it('publishes the payload on REDIS_PUBSUB_CHANNEL and filters on REDIS_PUBSUB_TYPES', async () => {
    const publish = jest.fn((_channel: string, _payload: Buffer) => Promise.resolve(1));
    const config = {
      settings: { REDIS_PUBSUB_CHANNEL: 'bots:{bot}:{type}', REDIS_PUBSUB_TYPES: ['callback_query'] },
    } as unknown as ReceiverConfig;
    const sut = new RedisPubSubPublisher({ publish } as unknown as Redis, {} as RedisState, config);
    const update = inboundUpdate(3, 'callback_query');
    await expect(sut.publish(update)).resolves.toBe('published');
    expect(publish).toHaveBeenCalledWith('bots:42:callback_query', update.payload);
    expect(sut.types).toEqual(new Set(['callback_query']));
    expect(sut.name).toBe('redis-pubsub');
  });
});
