import { Logger } from '@nestjs/common';
import { ClientRMQ, type ReadPacket } from '@nestjs/microservices';
import type { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel, Options } from 'amqplib';
import { setTimeout as sleep } from 'node:timers/promises';
import { redactUrl } from '../../../common/redact.js';
import { BackgroundReconnect, describeError } from '../../background-reconnect.js';
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
 * Nest's `ClientRMQ` (connection management, reconnects, status events) with these changes so a
 * resolved `emit()` means "RabbitMQ holds the message":
 * - one **confirm channel**: `dispatchEvent` resolves on the broker's publisher confirm (basic.ack)
 *   and rejects on a nack — ClientRMQ's own `dispatchEvent` resolves when the frame is written;
 * - the body is the exact bytes given, not `JSON.stringify` of Nest's `{pattern, data}` packet;
 * - **no offline buffering**: amqp-connection-manager queues publishes while disconnected and sends
 *   them after a reconnect; here a publish fails at once when the connection or channel is down
 *   (Telegram gets a fast 503 and resends), and `publishTimeout` bounds anything already queued;
 * - a channel **the broker closed** (it refused a message) fails the publishes it held at once,
 *   with the broker's reason, and is replaced on the live connection; publishes meanwhile wait.
 * The channel only publishes, so ClientRMQ's reply-queue consumer is not set up.
 */
export class AmqpConfirmClient extends ClientRMQ {
  private readonly log = new Logger('AmqpConnection');
  private readonly exchangeName: string;
  private readonly publishTimeoutMs: number;
  private readonly where: string;
  private readonly retry = new BackgroundReconnect(() => this.connect());
  private channelReady: Promise<void> | null = null;
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
    super({
      urls: [options.url],
      exchange: options.exchange,
      exchangeType: 'topic',
      wildcards: true,
      persistent: true,
      socketOptions: {
        heartbeatIntervalInSeconds: 5,
        reconnectTimeInSeconds: 1,
        connectionOptions: { timeout: 5000 },
      },
    });
    this.exchangeName = options.exchange;
    this.publishTimeoutMs = options.publishTimeoutMs;
    this.where = redactUrl(options.url);
  }

  /** Connection state as the client knows it: no I/O. */
  health(): PublisherHealth {
    const client = this.client as AmqpConnectionManager | null;
    if (this.blockedReason)
      return { up: false, reason: `rabbitmq blocked the connection: ${this.blockedReason}` };
    if (client?.isConnected() && this.channelOpen) return { up: true };
    return {
      up: false,
      reason: `rabbitmq at ${this.where} is not connected${this.lastError ? `: ${this.lastError}` : ''}`,
    };
  }

  /** A first attempt that fails is retried in the background; see BackgroundReconnect. */
  override connect(): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the RabbitMQ client is closed'));
    const attempt = super.connect() as Promise<unknown>;
    attempt.catch(() => this.retry.schedule());
    return attempt;
  }

  override async close(): Promise<void> {
    this.closed = true;
    this.retry.stop();
    await super.close();
  }

  override createClient(): AmqpConnectionManager {
    const client = super.createClient() as AmqpConnectionManager;
    client.on('connect', () => {
      if (this.lastError) this.log.log(`RabbitMQ at ${this.where} is back`);
      this.lastError = undefined;
      // A block belongs to the connection that was blocked, not to this new one.
      this.blockedReason = undefined;
    });
    client.on('connectFailed', ({ err }: { err: Error }) => this.noteError(err));
    client.on('disconnect', ({ err }: { err: Error }) => this.noteError(err));
    client.on(
      'blocked',
      ({ reason }: { reason: string }) => (this.blockedReason = reason || 'no reason given'),
    );
    client.on('unblocked', () => (this.blockedReason = undefined));
    return client;
  }

  /**
   * One confirm channel per connection manager; its setup (re)declares the exchange on every
   * (re)connect. ClientRMQ calls this from two places on the first connect — the same channel is
   * returned both times instead of opening a second one.
   */
  override createChannel(): Promise<void> {
    if (this.channel && this.channelReady) return this.channelReady;
    return this.openChannel();
  }

  protected override dispatchEvent(packet: ReadPacket<AmqpMessage>): Promise<void> {
    const client = this.client as AmqpConnectionManager | null;
    // The broker closed the channel, most likely for another update's message, and a new one is
    // being opened on the live connection: wait for it (PUBLISH_TIMEOUT_MS bounds the wait).
    if (this.reopening && client?.isConnected()) return this.reopening.then(() => this.dispatchEvent(packet));
    const channel = this.channel as ChannelWrapper | null;
    if (!channel || !this.channelOpen || !client?.isConnected()) {
      return Promise.reject(new Error(this.health().reason));
    }
    const { content, options } = packet.data;
    // Resolves on the publisher confirm, rejects on a nack or after publishTimeout.
    return channel.publish(this.exchangeName, packet.pattern as string, content, options).then(
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

  /** Opens the confirm channel (now if connected, else on connect) and makes it the one publishes use. */
  private openChannel(): Promise<void> {
    const client = this.client as AmqpConnectionManager;
    let ready!: () => void;
    let failed!: (error: Error) => void;
    const channelReady = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    const channel = client.createChannel({
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
    channel.on('error', (error: Error) => {
      this.noteError(error);
      failed(error instanceof Error ? error : new Error(String(error)));
    });
    this.channel = channel;
    this.channelReady = channelReady;
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
