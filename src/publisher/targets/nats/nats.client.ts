import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import {
  ClientProxy,
  NatsRecord,
  type NatsEvents,
  type ReadPacket,
  type WritePacket,
} from '@nestjs/microservices';
import {
  jetstream,
  jetstreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type PubAck,
} from '@nats-io/jetstream';
import {
  connect as natsConnect,
  RequestError,
  type MsgHdrs,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import { lastValueFrom } from 'rxjs';
import { redactUrl } from '../../../common/redact.js';
import { BackgroundReconnect, describeError } from '../../background-reconnect.js';
import type { PublisherHealth } from '../../publisher.interface.js';

export interface NatsStreamClientOptions {
  /** `nats://[user:pass@|token@]host:port` or `tls://…`; only its redacted form is ever logged. */
  url: string;
  /** false: core NATS, fire-and-forget — nothing holds a message nobody is subscribed to. */
  jetstream: boolean;
  /** The stream that must capture `subjects`; created when missing. */
  stream: string;
  /** Subject filter the stream must cover, e.g. `telegram.*.*`. */
  subjects: string;
  /** How long to wait for the stream's PubAck. */
  publishTimeoutMs: number;
}

/** Why a publish fails while the client reconnects (the NATS client would queue it instead). */
const CONNECTION_LOST = 'the connection was lost; reconnecting';

/**
 * NATS as a Nest `ClientProxy` of its own, registered with `ClientsModule` (which closes it at
 * shutdown). Nest's `ClientNats` publishes core NATS only and resolves `emit()` once the message
 * is handed to the client's buffer
 * (https://github.com/nestjs/nest/blob/master/packages/microservices/client/client-nats.ts), so
 * this client owns its @nats-io connection (which reconnects by itself once it has connected; a
 * first attempt that fails is retried by BackgroundReconnect) and adds:
 * - **JetStream**: `publishToStream` makes sure the stream exists and covers the subjects, then
 *   resolves only on the stream's PubAck, i.e. once the stream stored the message;
 * - **core NATS** (`jetstream: false`): `emit()` publishes the record's bytes and headers as they
 *   are and resolves after a flush (PING/PONG), so a resolved publish at least means the server
 *   received it — delivered only to subscribers connected at that moment;
 * - **no offline buffering**: the NATS client queues publishes while reconnecting; here a publish
 *   fails at once while the connection is down.
 * It only publishes: `send()` (request/response) is refused.
 */
export class NatsStreamClient extends ClientProxy<NatsEvents> {
  private readonly log = new Logger('NatsConnection');
  private readonly settings: NatsStreamClientOptions;
  private readonly connectOptions: NodeConnectionOptions;
  private readonly where: string;
  private readonly events = new EventEmitter();
  private readonly retry = new BackgroundReconnect(() => this.connect());
  private connection?: NatsConnection;
  /** The attempt to connect, while one is in flight. */
  private opening?: Promise<NatsConnection>;
  private connected = false;
  private js?: { connection: NatsConnection; client: JetStreamClient };
  /** Single flight: the stream check runs once per (re)connection, not once per update. */
  private streamCheck?: Promise<void>;
  private streamReady = false;
  private lastError?: string;
  private closed = false;

  constructor(options: NatsStreamClientOptions) {
    super();
    const url = new URL(options.url);
    const credentials = url.username
      ? url.password
        ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
        : { token: decodeURIComponent(url.username) }
      : {};
    this.connectOptions = {
      // The NATS client does not read credentials from a server URL: pass them as options.
      servers: [`${url.hostname}:${url.port || '4222'}`],
      ...credentials,
      ...(url.protocol === 'tls:' ? { tls: {} } : {}),
      name: 'telegram-receiver',
      // Keep reconnecting for as long as the process runs (the client's default gives up after 10).
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      timeout: 5000,
    };
    this.settings = options;
    this.where = redactUrl(options.url);
  }

  /** Connection (and stream) state as the client knows it: no I/O. */
  health(): PublisherHealth {
    if (!this.connected || !this.connection || this.connection.isClosed()) {
      return {
        up: false,
        reason: `nats at ${this.where} is not connected${this.lastError ? `: ${this.lastError}` : ''}`,
      };
    }
    if (this.settings.jetstream && !this.streamReady) {
      return {
        up: false,
        reason: `JetStream stream ${this.settings.stream} is not available${this.lastError ? `: ${this.lastError}` : ''}`,
      };
    }
    return { up: true };
  }

  /**
   * Connects (a failed attempt is retried in the background, see BackgroundReconnect) and, in
   * JetStream mode, makes sure the stream is there, so readiness reports a missing stream at boot.
   * Rejects at once while the connection is down.
   */
  async connect(): Promise<NatsConnection> {
    if (this.closed) throw new Error('the NATS client is closed');
    try {
      const connection = await this.open();
      if (this.settings.jetstream && !this.streamReady) await this.checkStream(connection);
      if (this.lastError) this.log.log(`NATS at ${this.where} is ready again`);
      this.lastError = undefined;
      return connection;
    } catch (error) {
      this.noteError(error);
      this.retry.schedule();
      throw error instanceof Error ? error : new Error(describeError(error));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.retry.stop();
    const connection = this.connection;
    this.connection = undefined;
    this.connected = false;
    this.events.removeAllListeners();
    await connection?.close();
  }

  override on<
    EventKey extends keyof NatsEvents = keyof NatsEvents,
    EventCallback extends NatsEvents[EventKey] = NatsEvents[EventKey],
  >(event: EventKey, callback: EventCallback): void {
    this.events.on(event, callback);
  }

  /** The @nats-io connection; throws before the first connect() or after close(). */
  unwrap<T>(): T {
    if (!this.connection) throw new Error('the NATS client is not connected');
    return this.connection as T;
  }

  /** Publishes to JetStream and resolves with the stream's PubAck (`duplicate` when `msgID` was seen within the stream's window). */
  async publishToStream(
    subject: string,
    payload: Uint8Array,
    headers: MsgHdrs,
    msgID: string,
  ): Promise<PubAck> {
    const connection = await this.connect();
    try {
      return await this.jetstreamOf(connection).publish(subject, payload, {
        msgID,
        headers,
        timeout: this.settings.publishTimeoutMs,
      });
    } catch (error) {
      // No stream answers for the subject: it was deleted or the server lost it. Check it again
      // on the next publish (or background retry) instead of failing until a restart.
      if (isNoResponders(error)) {
        this.streamReady = false;
        this.noteError(error);
        this.retry.schedule();
      }
      throw error;
    }
  }

  /** Core NATS: published once the server has it (a flush round trip), whoever is listening. */
  async publishCore(subject: string, payload: Uint8Array, headers: MsgHdrs): Promise<void> {
    // emit() is hot and drops its errors unless subscribed: wait for it.
    await lastValueFrom(this.emit(subject, new NatsRecord(payload, headers)), { defaultValue: undefined });
  }

  protected publish(_packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    callback({ err: new Error('the NATS client only publishes events (emit); send() is not supported') });
    return () => undefined;
  }

  /** The record's bytes and headers as they are (not Nest's JSON packet), resolved after a flush. */
  protected async dispatchEvent<T = undefined>(
    packet: ReadPacket<NatsRecord<Uint8Array, MsgHdrs>>,
  ): Promise<T> {
    const connection = this.unwrap<NatsConnection>();
    connection.publish(packet.pattern as string, packet.data.data, {
      headers: packet.data.headers,
    });
    await connection.flush();
    return undefined as T;
  }

  /** The connection while it is up, else the error a publish fails with; the first connect opens it. */
  private open(): Promise<NatsConnection> {
    if (this.connection) {
      return this.connected ? Promise.resolve(this.connection) : Promise.reject(new Error(CONNECTION_LOST));
    }
    this.opening ??= natsConnect(this.connectOptions)
      .then(async (connection) => {
        if (this.closed) {
          await connection.close();
          throw new Error('the NATS client is closed');
        }
        this.connection = connection;
        this.connected = true;
        this._status$.next('connected');
        this.watch(connection).catch((error: unknown) => this.noteError(error));
        return connection;
      })
      .finally(() => (this.opening = undefined));
    return this.opening;
  }

  /** Follows the connection's status until it ends (closed, or given up by the NATS client). */
  private async watch(connection: NatsConnection): Promise<void> {
    for await (const status of connection.status()) {
      switch (status.type) {
        case 'disconnect':
          this.connected = false;
          // After a reconnect the server may have lost a memory-backed stream.
          this.streamReady = false;
          this.noteError(new Error(CONNECTION_LOST));
          this._status$.next('disconnected');
          this.events.emit('disconnect', status.server);
          break;
        case 'reconnecting':
          this._status$.next('reconnecting');
          break;
        case 'reconnect':
          this.connected = true;
          this._status$.next('connected');
          this.events.emit('reconnect', status.server);
          // Check the stream now, not at the next publish: an unready replica gets no publishes.
          this.connect().catch(() => undefined);
          break;
        case 'update':
          this.events.emit('update', { added: status.added ?? [], deleted: status.deleted ?? [] });
          break;
        case 'error':
          // The server reported an error but kept the connection (e.g. a permissions violation).
          this.log.error(`NATS at ${this.where}: ${describeError(status.error)}`);
          break;
        case 'ping':
        case 'staleConnection':
        case 'forceReconnect':
        case 'ldm':
        case 'slowConsumer':
        case 'close':
          // The client handles these itself (and this client has no subscriptions).
          break;
      }
    }
    // The status stream ends once the connection closed: by close(), or for good by the NATS
    // client (a reconnect it refused). Then make a new one.
    if (this.connection !== connection) return;
    this.connection = undefined;
    this.connected = false;
    this.streamReady = false;
    if (this.closed) return;
    this.noteError(new Error('the connection closed'));
    this.retry.schedule();
  }

  private jetstreamOf(connection: NatsConnection): JetStreamClient {
    if (this.js?.connection !== connection) {
      this.js = { connection, client: jetstream(connection, { timeout: this.settings.publishTimeoutMs }) };
    }
    return this.js.client;
  }

  private checkStream(connection: NatsConnection): Promise<void> {
    this.streamCheck ??= this.ensureStream(connection).finally(() => (this.streamCheck = undefined));
    return this.streamCheck;
  }

  /** Creates the stream when missing; adds the subjects to an existing stream that does not cover them. */
  private async ensureStream(connection: NatsConnection): Promise<void> {
    const { stream, subjects } = this.settings;
    const manager = await jetstreamManager(connection, { timeout: 5000 });
    try {
      const info = await manager.streams.info(stream);
      const current = info.config.subjects ?? [];
      if (!current.some((filter) => subjectCovers(filter, subjects))) {
        await manager.streams.update(stream, { subjects: [...current, subjects] });
        this.log.log(`JetStream stream ${stream} now also captures ${subjects}`);
      }
    } catch (error) {
      if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound))
        throw error;
      // JetStream's defaults: file storage, kept until limits that are unset — see the README on
      // setting max_age / max_bytes with `nats stream edit`.
      await manager.streams.add({ name: stream, subjects: [subjects] });
      this.log.log(`JetStream stream ${stream} created for ${subjects}`);
    }
    this.streamReady = true;
  }

  private noteError(error: unknown): void {
    if (this.closed) return;
    const message = describeError(error);
    if (message !== this.lastError) this.log.error(`NATS at ${this.where}: ${message}`);
    this.lastError = message;
  }
}

/**
 * Nothing answered the publish request: no stream captures the subject (the client then throws
 * its JetStreamNotEnabled error, with the RequestError as cause).
 */
function isNoResponders(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e instanceof RequestError && e.isNoResponders()) return true;
  }
  return false;
}

/** Whether NATS subject filter `filter` matches every subject `subjects` (itself a filter) matches. */
export function subjectCovers(filter: string, subjects: string): boolean {
  const f = filter.split('.');
  const s = subjects.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return i < s.length;
    if (i >= s.length) return false;
    if (f[i] === '*') {
      if (s[i] === '>') return false;
      continue;
    }
    if (f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}
