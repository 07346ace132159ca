import { Logger } from '@nestjs/common';
import { ClientNats, NatsRecord, type Serializer } from '@nestjs/microservices';
import {
  jetstream,
  jetstreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type PubAck,
} from '@nats-io/jetstream';
import { RequestError, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
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

/** Sends a NatsRecord's bytes and headers as they are, instead of Nest's JSON `{pattern, data}` packet. */
class RawNatsSerializer implements Serializer {
  serialize(packet: { data?: unknown }): { data: unknown; headers?: MsgHdrs } {
    return packet.data instanceof NatsRecord
      ? { data: packet.data.data, headers: packet.data.headers as MsgHdrs | undefined }
      : { data: packet.data };
  }
}

/**
 * Nest's `ClientNats` for the connection (reconnects, status events, close), plus what Nest's NATS
 * transport does not do — it publishes core NATS only:
 * - **JetStream**: `publishToStream` makes sure the stream exists and covers the subjects, then
 *   resolves only on the stream's PubAck, i.e. once the stream stored the message;
 * - **core NATS** (`jetstream: false`): `emit()`, then a flush (PING/PONG) so a resolved publish at
 *   least means the server received it — delivered only to subscribers connected at that moment;
 * - **no offline buffering**: the NATS client queues publishes while reconnecting; here a publish
 *   fails at once while the connection is down (ClientNats rejects `connect()` then).
 */
export class NatsStreamClient extends ClientNats {
  private readonly log = new Logger('NatsConnection');
  private readonly settings: NatsStreamClientOptions;
  private readonly where: string;
  private readonly retry = new BackgroundReconnect(() => this.connect());
  private connected = false;
  private js?: { connection: NatsConnection; client: JetStreamClient };
  /** Single flight: the stream check runs once per (re)connection, not once per update. */
  private streamCheck?: Promise<void>;
  private streamReady = false;
  private lastError?: string;
  private closed = false;

  constructor(options: NatsStreamClientOptions) {
    const url = new URL(options.url);
    const credentials = url.username
      ? url.password
        ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
        : { token: decodeURIComponent(url.username) }
      : {};
    super({
      // The NATS client does not read credentials from a server URL: pass them as options.
      servers: [`${url.hostname}:${url.port || '4222'}`],
      ...credentials,
      ...(url.protocol === 'tls:' ? { tls: {} } : {}),
      name: 'telegram-receiver',
      // Keep reconnecting for as long as the process runs (the client's default gives up after 10).
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      timeout: 5000,
      serializer: new RawNatsSerializer(),
    });
    this.settings = options;
    this.where = redactUrl(options.url);
    this.status.subscribe((status) => {
      // NatsStatus is a const enum, which isolatedModules cannot import: compare its value.
      this.connected = (status as string) === 'connected';
      // After a reconnect the server may have lost a memory-backed stream: check it again now,
      // not at the next publish — an unready replica gets no publishes.
      if (!this.connected) this.streamReady = false;
      else if (options.jetstream && !this.streamReady) this.connect().catch(() => undefined);
    });
  }

  /** Connection (and stream) state as the client knows it: no I/O. */
  health(): PublisherHealth {
    const connection = this.natsClient as NatsConnection | null;
    if (!this.connected || !connection || connection.isClosed()) {
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
   */
  override async connect(): Promise<NatsConnection> {
    if (this.closed) throw new Error('the NATS client is closed');
    try {
      const connection = (await super.connect()) as NatsConnection;
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

  override async close(): Promise<void> {
    this.closed = true;
    this.retry.stop();
    await super.close();
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
    await (this.natsClient as NatsConnection).flush();
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
