import { jest } from '@jest/globals';
import { of, throwError, type Observable } from 'rxjs';
import type { ReceiverConfig } from '../../../config/load-settings.js';
import { AmqpMessage, type AmqpConfirmClient } from './amqp.client.js';
import { AmqpPublisher } from './amqp.publisher.js';
import { inboundUpdate } from '../../../../test/support/inbound-update.js';

const update = inboundUpdate(1001, 'pre_checkout_query', { receivedAt: 1_700_000_000_123 });
const config = (types?: string[]) => ({ settings: { AMQP_TYPES: types } }) as unknown as ReceiverConfig;

describe('AmqpPublisher', () => {
  it('emits the payload to routing key <bot>.<type> as a persistent message with update headers', async () => {
    const emit = jest.fn((_key: string, _message: AmqpMessage): Observable<undefined> => of(undefined));
    const sut = new AmqpPublisher({ emit } as unknown as AmqpConfirmClient, config());
    await expect(sut.publish(update)).resolves.toBe('published');
    const [key, message] = emit.mock.calls[0] as [string, AmqpMessage];
    expect(key).toBe('42.pre_checkout_query');
    expect(message).toBeInstanceOf(AmqpMessage);
    expect(message.content).toBe(update.payload);
    expect(message.options).toEqual({
      persistent: true,
      contentType: 'application/json',
      type: 'pre_checkout_query',
      messageId: '42:1001',
      timestamp: 1_700_000_000,
      appId: 'telegram-receiver',
      headers: { bot: 42, update_id: 1001, type: 'pre_checkout_query' },
    });
    expect(sut.types).toBeUndefined();
  });

  it('turns a bare string rejection into an Error', async () => {
    const emit = () => throwError(() => 'Error: Connection lost. Trying to reconnect...');
    const sut = new AmqpPublisher({ emit } as unknown as AmqpConfirmClient, config(['pre_checkout_query']));
    await expect(sut.publish(update)).rejects.toThrow(
      new Error('Error: Connection lost. Trying to reconnect...'),
    );
    expect(sut.types).toEqual(new Set(['pre_checkout_query']));
  });

  it('fails an update whose routing key is over 255 bytes at once, without sending it', async () => {
    const emit = jest.fn(() => of(undefined));
    const sut = new AmqpPublisher({ emit } as unknown as AmqpConfirmClient, config());
    await expect(sut.publish({ ...update, type: 'x'.repeat(300) })).rejects.toThrow(
      'not sent: the routing key is 303 bytes long; AMQP allows 255',
    );
    await expect(sut.publish({ ...update, type: 'é'.repeat(127) })).rejects.toThrow(
      'not sent: the routing key is 257 bytes long; AMQP allows 255',
    );
    expect(emit).not.toHaveBeenCalled();
    await expect(sut.publish({ ...update, type: 'x'.repeat(252) })).resolves.toBe('published');
  });
});
