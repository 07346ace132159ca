import type { DynamicModule, InjectionToken, Provider, Type } from '@nestjs/common';
import { ClientsModule, type ClientProxy } from '@nestjs/microservices';
import { setTimeout as sleep } from 'node:timers/promises';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import type { UpdatePublisher } from './publisher.interface.js';

/**
 * A built-in broker target — the Redis queue, Redis pub/sub, MQTT, RabbitMQ, NATS or Kafka — as
 * PublisherModule wires it: its connection, its publisher, and who closes the connection at
 * shutdown. Each lives in its own `targets/<broker>/*.target.ts`, which PublisherModule imports
 * only when the target's setting is present, so a service publishing to one broker does not carry the client code of the
 * others (the NATS client alone is ~1.5 MB of heap).
 */
export interface BrokerTarget {
  /** Modules its providers need: `ClientsModule` for a Nest `ClientProxy`, which it closes at shutdown. */
  readonly imports: DynamicModule[];
  /** The publisher's provider and those of the connection, unless `imports` provides it. */
  readonly providers: Provider[];
  readonly publisher: Type<UpdatePublisher>;
  /**
   * Connections no Nest module closes, in the order PublisherModule closes them, once, after the
   * HTTP server stopped taking requests.
   */
  readonly connections: readonly OpenConnection[];
}

/** A connection PublisherModule closes: its provider's token, and how logs name it. */
export interface OpenConnection {
  readonly token: InjectionToken;
  readonly name: string;
}

/**
 * How long boot waits for a broker's first connection. A broker that is down is reported at boot
 * (by the client's log and readiness 503) and connected in the background; boot goes on.
 */
const BOOT_CONNECT_WAIT_MS = 5000;

/** Connects at boot, waiting up to BOOT_CONNECT_WAIT_MS; a failure is the client's to log and retry. */
async function connectAtBoot(connection: { connect(): Promise<unknown> }): Promise<void> {
  await Promise.race([
    connection.connect().catch(() => undefined),
    sleep(BOOT_CONNECT_WAIT_MS, undefined, { ref: false }),
  ]);
}

/**
 * A target publishing on a connection another module opens and closes: the Redis targets, on
 * RedisModule's one connection (shared with dedup and the webhook lease).
 */
export function sharedConnectionTarget(publisher: Type<UpdatePublisher>): BrokerTarget {
  return { imports: [], providers: [publisher], publisher, connections: [] };
}

/**
 * A target whose client (provided as its own class) is made from the settings and connected at
 * boot, waiting up to BOOT_CONNECT_WAIT_MS; PublisherModule closes it.
 */
export function connectedTarget<C extends { connect(): Promise<unknown> }>(
  client: Type<C>,
  name: string,
  publisher: Type<UpdatePublisher>,
  create: (settings: ReceiverConfig['settings']) => C,
): BrokerTarget {
  return {
    imports: [],
    providers: [
      {
        provide: client,
        inject: [RECEIVER_CONFIG],
        useFactory: async ({ settings }: ReceiverConfig): Promise<C> => {
          const connection = create(settings);
          await connectAtBoot(connection);
          return connection;
        },
      },
      publisher,
    ],
    publisher,
    connections: [{ token: client, name }],
  };
}

/**
 * A target whose client is a Nest `ClientProxy` of class `client`, made from the settings by
 * `ClientsModule.registerAsync` (`customClass`) under `token` — so ClientsModule closes it at
 * shutdown (after the HTTP server stopped, as every `onApplicationShutdown`) — and connected at
 * boot, waiting up to BOOT_CONNECT_WAIT_MS: Nest's clients otherwise connect on their first emit.
 */
export function clientProxyTarget<O extends object>(
  token: symbol,
  client: new (options: O) => ClientProxy,
  publisher: Type<UpdatePublisher>,
  options: (settings: ReceiverConfig['settings']) => O,
): BrokerTarget {
  return {
    imports: [
      ClientsModule.registerAsync([
        {
          name: token,
          inject: [RECEIVER_CONFIG],
          useFactory: ({ settings }: ReceiverConfig) => ({ customClass: client, options: options(settings) }),
        },
      ]),
    ],
    providers: [
      // Made with the other providers, before any lifecycle hook runs — as connectedTarget's.
      {
        provide: Symbol(`${token.description} connected at boot`),
        inject: [token],
        useFactory: connectAtBoot,
      },
      publisher,
    ],
    publisher,
    connections: [],
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
