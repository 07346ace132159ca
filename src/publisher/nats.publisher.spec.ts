import { jest } from '@jest/globals';
import type { MsgHdrs } from '@nats-io/transport-node';
import type { ReceiverConfig } from '../config/load-settings.js';
import type { Bot } from '../telegram/bot-registry.service.js';
import type { NatsStreamClient } from './nats.client.js';
import { NatsPublisher } from './nats.publisher.js';
import type { InboundUpdate } from './publisher.interface.js';

const update: InboundUpdate = {
  bot: { id: 42, idText: '42' } as Bot,
  updateId: 7,
  type: 'message',
  raw: Buffer.from('{"update_id":7,"message":{}}'),
  payload: Buffer.from('{"update_id":7,"message":{}}'),
  receivedAt: 0,
};
const config = (jetstream: boolean) =>
  ({
    settings: { NATS_SUBJECT: 'tg.{bot}.{type}', NATS_JETSTREAM: jetstream, NATS_TYPES: ['message'] },
  }) as unknown as ReceiverConfig;

function client() {
  return {
    publishToStream: jest.fn((_s: string, _p: Uint8Array, _h: MsgHdrs, _id: string) =>
      Promise.resolve({ stream: 'telegram', seq: 1, duplicate: false }),
    ),
    publishCore: jest.fn((_s: string, _p: Uint8Array, _h: MsgHdrs) => Promise.resolve()),
  };
}

describe('NatsPublisher', () => {
  it('publishes to JetStream with Nats-Msg-Id <bot>:<update_id> and the update headers', async () => {
    const nats = client();
    const sut = new NatsPublisher(nats as unknown as NatsStreamClient, config(true));
    await expect(sut.publish(update)).resolves.toBe('published');
    const [subject, payload, headers, msgId] = nats.publishToStream.mock.calls[0] as [
      string,
      Uint8Array,
      MsgHdrs,
      string,
    ];
    expect([subject, payload, msgId]).toEqual(['tg.42.message', update.payload, '42:7']);
    expect([headers.get('bot'), headers.get('update_id'), headers.get('type')]).toEqual([
      '42',
      '7',
      'message',
    ]);
    expect(nats.publishCore).not.toHaveBeenCalled();
    expect(sut.types).toEqual(new Set(['message']));
  });

  it("reports JetStream's own duplicate detection as a duplicate", async () => {
    const nats = client();
    nats.publishToStream.mockResolvedValueOnce({ stream: 'telegram', seq: 1, duplicate: true });
    const sut = new NatsPublisher(nats as unknown as NatsStreamClient, config(true));
    await expect(sut.publish(update)).resolves.toBe('duplicate');
  });

  it('publishes core NATS with NATS_JETSTREAM=false', async () => {
    const nats = client();
    const sut = new NatsPublisher(nats as unknown as NatsStreamClient, config(false));
    await expect(sut.publish(update)).resolves.toBe('published');
    expect(nats.publishCore.mock.calls[0]?.[0]).toBe('tg.42.message');
    expect(nats.publishToStream).not.toHaveBeenCalled();
  });

  it('turns a bare string rejection into an Error', async () => {
    const nats = client();
    nats.publishToStream.mockImplementationOnce(() =>
      // ClientNats really rejects with this string while reconnecting.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      Promise.reject('Error: Connection lost. Trying to reconnect...'),
    );
    const sut = new NatsPublisher(nats as unknown as NatsStreamClient, config(true));
    await expect(sut.publish(update)).rejects.toThrow(
      new Error('Error: Connection lost. Trying to reconnect...'),
    );
  });
});
