import { Logger } from '@nestjs/common';
import { ClientProxy, type ReadPacket, type RmqEvents, type WritePacket } from '@nestjs/microservices';
import {
  AmqpConnectionManagerClass,
  type AmqpConnectionManager,
  type ChannelWrapper,
} from 'amqp-connection-manager';
import type { ConfirmChannel, Options } from 'amqplib';
import { setTimeout as sleep } from 'node:timers/promises';
import { redactUrl } from '../../../common/redact.js';
import { describeError } from '../../background-reconnect.js';
import type { PublisherHealth } from '../../publisher.interface.js';

/** How often at most a channel the broker closed is opened again. */
const REOPEN_INTERVAL_MS = 1000;

/** One message for the exchange; `emit()`'s pattern is its routing key. */
export class AmqpMessage {
  constructor(
    readonly content: Buffer,
    readonly options: Options.Publish,
  ) {}
}

export interface AmqpConfirmClientOptions {
  /** May carry credentials: only its redacted form is ever logged. */
  url: string;
  /** Declared by the client as a durable topic exchange. */
  exchange: string;
  /** A message neither confirmed nor sent within this time is rejected instead of waiting for a reconnect. */
  publishTimeoutMs: number;
}

/**
 * RabbitMQ as a Nest `ClientProxy` of its own, registered with `ClientsModule` (which closes it at
 * shutdown). Nest's `ClientRMQ` cannot give what a resolved `emit()` must mean here — "RabbitMQ
 * holds the message": its channel is not a confirm channel, its `dispatchEvent` resolves once the
 * frame is written, and it sends `JSON.stringify` of its `{pattern, data}` packet
 * (https://github.com/nestjs/nest/blob/master/packages/microservices/client/client-rmq.ts). So this
 * client owns its amqp-connection-manager connection, which reconnects by itself — a first
 * attempt that fails included — for as long as the client is open, and:
 * - one **confirm channel**: `dispatchEvent` resolves on the broker's publisher confirm (basic.ack)
 *   and rejects on a nack;
 * - the body is the exact bytes given;
 * - **no offline buffering**: amqp-connection-manager queues publishes while disconnected and sends
 *   them after a reconnect; here a publish fails at once when the connection or channel is down
 *   (Telegram gets a fast 503 and resends), and `publishTimeout` bounds anything already queued;
 * - a channel **the broker closed** (it refused a message) fails the publishes it held at once,
 *   with the broker's reason, and is replaced on the live connection; publishes meanwhile wait.
 * It only publishes: `send()` (request/response) is refused.
 */
export class AmqpConfirmClient extends ClientProxy<RmqEvents> {
  private readonly log = new Logger('AmqpConnection');
  private readonly manager: AmqpConnectionManager;
  private readonly exchangeName: string;
  private readonly publishTimeoutMs: number;
  private readonly where: string;
  /** The first connection attempt, until it has settled; then settled for good (see connect()). */
  private opening?: Promise<void>;
  private channel?: ChannelWrapper;
  private channelOpen = false;
  /** Why the broker closed the current channel (amqplib's message), until a new one is set up. */
  private channelClosedBy?: string;
  /** A new channel for one the broker closed, while it is being opened: publishes wait for it. */
  private reopening?: Promise<void>;
  private lastReopenAt = 0;
  private blockedReason?: string;
  private lastError?: string;
  private closed = false;

  constructor(options: AmqpConfirmClientOptions) {
    super();
    this.exchangeName = options.exchange;
    this.publishTimeoutMs = options.publishTimeoutMs;
    this.where = redactUrl(options.url);
    this.manager = new AmqpConnectionManagerClass([options.url], {
      heartbeatIntervalInSeconds: 5,
      reconnectTimeInSeconds: 1,
      connectionOptions: { timeout: 5000 },
    });
    this.manager.on('connect', () => {
      if (this.lastError) this.log.log(`RabbitMQ at ${this.where} is back`);
      this.lastError = undefined;
      // A block belongs to the connection that was blocked, not to this new one.
      this.blockedReason = undefined;
      this._status$.next('connected');
    });
    this.manager.on('connectFailed', ({ err }) => this.noteError(err));
    this.manager.on('disconnect', ({ err }: { err?: Error }) => {
      this.noteError(err ?? new Error('the connection closed'));
      this._status$.next('disconnected');
    });
    this.manager.on('blocked', ({ reason }) => {
      this.blockedReason = reason || 'no reason given';
      this._status$.next('blocked');
    });
    this.manager.on('unblocked', () => {
      this.blockedReason = undefined;
      this._status$.next('unblocked');
    });
  }

  /** Connection state as the client knows it: no I/O. */
  health(): PublisherHealth {
    if (this.blockedReason)
      return { up: false, reason: `rabbitmq blocked the connection: ${this.blockedReason}` };
    if (this.manager.isConnected() && this.channelOpen) return { up: true };
    return {
      up: false,
      reason: `rabbitmq at ${this.where} is not connected${this.lastError ? `: ${this.lastError}` : ''}`,
    };
  }

  /**
   * Starts connecting and resolves once the confirm channel is first ready, or rejects with the
   * first attempt's failure. After that first attempt it resolves at once, whatever the state:
   * amqp-connection-manager keeps reconnecting, and a publish meanwhile fails on the state
   * (`emit()` calls this before every publish).
   */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the RabbitMQ client is closed'));
    this.opening ??= this.open();
    return this.opening;
  }

  async close(): Promise<void> {
    this.closed = true;
    // Closes its channels (failing what they still hold), the connection, and the retries.
    await this.manager.close();
  }

  override on<
    EventKey extends keyof RmqEvents = keyof RmqEvents,
    EventCallback extends RmqEvents[EventKey] = RmqEvents[EventKey],
  >(event: EventKey, callback: EventCallback): void {
    this.manager.on(event, callback as (...args: unknown[]) => void);
  }

  /** The amqp-connection-manager connection. */
  unwrap<T>(): T {
    return this.manager as T;
  }

  protected publish(_packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    callback({ err: new Error('the RabbitMQ client only publishes events (emit); send() is not supported') });
    return () => undefined;
  }

  /** Resolves (with undefined) once the broker confirmed the message. */
  protected dispatchEvent<T = undefined>(packet: ReadPacket<AmqpMessage>): Promise<T> {
    return this.confirmed(packet.pattern as string, packet.data) as Promise<T>;
  }

  private confirmed(routingKey: string, message: AmqpMessage): Promise<undefined> {
    // The broker closed the channel, most likely for another update's message, and a new one is
    // being opened on the live connection: wait for it (PUBLISH_TIMEOUT_MS bounds the wait).
    if (this.reopening && this.manager.isConnected()) {
      return this.reopening.then(() => this.confirmed(routingKey, message));
    }
    const channel = this.channel;
    if (!channel || !this.channelOpen || !this.manager.isConnected()) {
      return Promise.reject(new Error(this.health().reason));
    }
    // Resolves on the publisher confirm, rejects on a nack or after publishTimeout.
    return channel.publish(this.exchangeName, routingKey, message.content, message.options).then(
      () => undefined,
      (error: unknown) => {
        // amqplib fails what was unconfirmed on a closed channel with a bare "channel closed":
        // give the broker's reason instead (its 'error' event came first).
        throw new Error(
          !this.channelOpen && this.channelClosedBy ? this.channelClosedBy : describeError(error),
        );
      },
    );
  }

  /** The first attempt: the connection and the confirm channel on it. */
  private open(): Promise<void> {
    let onFailed!: (arg: { err: Error }) => void;
    const failed = new Promise<never>((_resolve, reject) => {
      onFailed = ({ err }) => reject(err);
      this.manager.once('connectFailed', onFailed);
    });
    const first = Promise.race([this.openChannel(), failed]).finally(() =>
      this.manager.removeListener('connectFailed', onFailed),
    );
    // Its failures arrive as 'connectFailed'; it retries by itself.
    this.manager.connect().catch(() => undefined);
    // Only the first attempt's outcome is reported to connect(): see there.
    first.catch(() => (this.opening = Promise.resolve()));
    return first;
  }

  /** Opens the confirm channel (now if connected, else on connect) and makes it the one publishes use. */
  private openChannel(): Promise<void> {
    let ready!: () => void;
    let failed!: (error: Error) => void;
    const channelReady = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    const channel = this.manager.createChannel({
      json: false,
      confirm: true,
      publishTimeout: this.publishTimeoutMs,
      setup: async (raw: ConfirmChannel) => {
        // Emitted before 'close' when the broker closes the channel, with its reason.
        raw.on('error', (error: Error) => this.onChannelError(error));
        raw.once('close', () => this.onChannelClosed(channel));
        await raw.assertExchange(this.exchangeName, 'topic', { durable: true });
        this.channelClosedBy = undefined;
        this.channelOpen = true;
        ready();
      },
    });
    // Without a listener, a failed setup (e.g. the exchange exists with another type) would be
    // an unhandled 'error' event and end the process.
    channel.on('error', (error: unknown) => {
      this.noteError(error);
      failed(error instanceof Error ? error : new Error(describeError(error)));
    });
    this.channel = channel;
    return channelReady;
  }

  private onChannelError(error: Error): void {
    this.channelOpen = false;
    this.channelClosedBy = describeError(error);
    this.noteError(error);
  }

  /**
   * A channel the broker closed while the connection stays up — for a message it refused (over
   * its max_message_size, not permitted), an exchange deleted under us, a failed declaration — is
   * not reopened by amqp-connection-manager until the next reconnect, so open a new one now, at
   * most once per REOPEN_INTERVAL_MS (a declaration that keeps failing must not spin). A channel
   * closed with its connection is reopened by the wrapper itself on reconnect.
   */
  private onChannelClosed(channel: ChannelWrapper): void {
    this.channelOpen = false;
    if (this.closed || channel !== this.channel || this.channelClosedBy === undefined) return;
    // Fails what it still queues now, instead of sending it on a later connection.
    channel.close().catch(() => undefined);
    const wait = Math.max(0, this.lastReopenAt + REOPEN_INTERVAL_MS - Date.now());
    const reopening = sleep(wait, undefined, { ref: false })
      .then(() => {
        if (this.closed) throw new Error('the RabbitMQ client is closed');
        this.lastReopenAt = Date.now();
        return this.openChannel();
      })
      .finally(() => {
        if (this.reopening === reopening) this.reopening = undefined;
      });
    // Publishes waiting on it see its failure; nothing else must.
    reopening.catch(() => undefined);
    this.reopening = reopening;
  }

  private noteError(error: unknown): void {
    if (this.closed) return;
    const message = describeError(error);
    if (message !== this.lastError) this.log.error(`RabbitMQ at ${this.where}: ${message}`);
    this.lastError = message;
  }
}
