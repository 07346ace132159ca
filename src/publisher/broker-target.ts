import type { InjectionToken, Provider, Type } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import type { UpdatePublisher } from './publisher.interface.js';

/**
 * A built-in broker target — Redis pub/sub, MQTT, RabbitMQ or NATS — as PublisherModule wires it:
 * its connection, its publisher, and what closes the connection at shutdown. Each lives in its own
 * `*.target.ts`, which PublisherModule imports only when the target's setting is present, so a
 * service publishing to one broker does not carry the client code of the others (the NATS client
 * alone is ~1.5 MB of heap).
 */
export interface BrokerTarget {
  /** The connection's provider and the publisher's. */
  readonly providers: Provider[];
  readonly publisher: Type<UpdatePublisher>;
  /** The connection (a Nest `ClientProxy`), closed once after the HTTP server stopped taking requests. */
  readonly connection: { readonly token: InjectionToken; readonly name: string };
}

/**
 * How long boot waits for a broker's first connection. A broker that is down is reported at boot
 * (by the client's log and readiness 503) and connected in the background; boot goes on.
 */
const BOOT_CONNECT_WAIT_MS = 5000;

/**
 * A target whose client (provided as its own class) is made from the settings and connected at
 * boot, waiting up to BOOT_CONNECT_WAIT_MS.
 */
export function connectedTarget<C extends { connect(): Promise<unknown> }>(
  client: Type<C>,
  name: string,
  publisher: Type<UpdatePublisher>,
  create: (settings: ReceiverConfig['settings']) => C,
): BrokerTarget {
  return {
    providers: [
      {
        provide: client,
        inject: [RECEIVER_CONFIG],
        useFactory: async ({ settings }: ReceiverConfig): Promise<C> => {
          const connection = create(settings);
          await Promise.race([
            connection.connect().catch(() => undefined),
            sleep(BOOT_CONNECT_WAIT_MS, undefined, { ref: false }),
          ]);
          return connection;
        },
      },
      publisher,
    ],
    publisher,
    connection: { token: client, name },
  };
}

/**
 * Whether `text` is longer than `limit` bytes in UTF-8, without encoding it when its length alone
 * answers (a UTF-16 code unit is at most 3 bytes of UTF-8).
 */
export function longerThanBytes(text: string, limit: number): boolean {
  return text.length > limit || (text.length * 3 > limit && Buffer.byteLength(text) > limit);
}

/** A character as `U+0000` for an error message (the character itself may be unprintable). */
export function codePoint(character: string): string {
  return `U+${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}
