import { jest } from '@jest/globals';
import type { MsgHdrs } from '@nats-io/transport-node';
import type { ReceiverConfig } from '../../../config/load-settings.js';
import type { NatsStreamClient } from './nats.client.js';
import { NatsPublisher, subjectRefusal } from './nats.publisher.js';
import { inboundUpdate } from '../../../../test/support/inbound-update.js';

const update = inboundUpdate(7);
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
      // What Nest's ClientNats rejects with while reconnecting: any client may reject with a string.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      Promise.reject('Error: Connection lost. Trying to reconnect...'),
    );
    const sut = new NatsPublisher(nats as unknown as NatsStreamClient, config(true));
    await expect(sut.publish(update)).rejects.toThrow(
      new Error('Error: Connection lost. Trying to reconnect...'),
    );
  });
});

describe('subjectRefusal', () => {
  it.each([['tg.42.message'], ['tg.42.caf\u00e9'], ['tg.42.' + 'x'.repeat(3834)]])('sends %#', (subject) => {
    expect(subjectRefusal(subject, 3)).toBeUndefined();
  });

  it.each([
    ['tg.42.a b', 'the subject contains U+0020'],
    ['tg.42.a\tb', 'the subject contains U+0009'],
    ['tg.42.a\u0000b', 'the subject contains U+0000'],
    ['tg.42.a\r\nPUB x 1', 'the subject contains U+000D'],
    ['tg.42.*', 'the subject contains the wildcard *, which only subscriptions may use'],
    ['tg.42.>', 'the subject contains the wildcard >, which only subscriptions may use'],
    ['tg.42.', 'the subject has an empty token'],
    ['tg..message', 'the subject has an empty token'],
    ['', 'the subject has an empty token'],
    ['tg.42.' + 'x'.repeat(70_000), 'the subject is 70006 bytes long; at most 3840 fit a NATS protocol line'],
    ['tg.42.a.b', 'the subject has 4 tokens; the stream captures subjects of 3'],
  ])('refuses %#: %s', (subject, reason) => {
    expect(subjectRefusal(subject, 3)).toBe(reason);
  });

  it('takes any number of tokens when no stream captures them (core NATS)', () => {
    expect(subjectRefusal('tg.42.a.b')).toBeUndefined();
  });
});

describe('NatsPublisher refusals', () => {
  it('fails an update whose subject the server would refuse, or no stream would capture, without sending it', async () => {
    const nats = client();
    const sut = new NatsPublisher(nats as unknown as NatsStreamClient, config(true));
    await expect(sut.publish({ ...update, type: 'x'.repeat(70_000) })).rejects.toThrow(
      'not sent: the subject is 70006 bytes long',
    );
    await expect(sut.publish({ ...update, type: 'a.b' })).rejects.toThrow(
      'not sent: the subject has 4 tokens; the stream captures subjects of 3',
    );
    expect(nats.publishToStream).not.toHaveBeenCalled();
  });

  it('sends a kind with a dot on core NATS, where no stream has to capture it', async () => {
    const nats = client();
    const sut = new NatsPublisher(nats as unknown as NatsStreamClient, config(false));
    await expect(sut.publish({ ...update, type: 'a.b' })).resolves.toBe('published');
    expect(nats.publishCore.mock.calls[0]?.[0]).toBe('tg.42.a.b');
  });
});
