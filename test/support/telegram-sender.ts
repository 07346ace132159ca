/**
 * Delivers updates to a webhook the way Telegram does, for load and fault tests (TELEGRAM.md, Delivery):
 * one Update per POST with `Content-Type: application/json` and the `X-Telegram-Bot-Api-Secret-Token`
 * header, up to `connections` requests at once over keep-alive sockets, and at-least-once delivery:
 * on a non-2xx answer, a timeout or a connection error the same update is sent again — first retry at
 * once, then after 1, 2, 4 … s (capped at `maxBackoffMs`), or after the answer's `Retry-After` — until
 * it is acknowledged or `deadlineMs` after the start of `send()` has passed.
 *
 * Telegram's real backoff starts at about 2 s and grows to minutes; the cap keeps tests short.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface TelegramSenderOptions {
  /** The webhook URL (http: or https:; certificates are not verified). */
  url: string;
  /** Sent as X-Telegram-Bot-Api-Secret-Token when set. */
  secret?: string;
  /** Concurrent requests and keep-alive sockets, like setWebhook's max_connections. Default 40. */
  connections?: number;
  /** An attempt without a complete answer after this long counts as failed. Default 10 000. */
  requestTimeoutMs?: number;
  /** Cap on the wait between attempts, including a Retry-After. Default 4 000. */
  maxBackoffMs?: number;
  /** An update still unacknowledged this long after send() started is given up. Default 60 000. */
  deadlineMs?: number;
}

export interface SendResult {
  /**
   * update_id → attempts until 2xx. When the input holds the same update_id several times, the entry
   * is that of the delivery acknowledged last.
   */
  acked: Map<number, number>;
  /** update_ids given up at the deadline (or by close()), in the order they were given up. */
  failed: number[];
  /** Answers per HTTP status over all attempts; `error` counts timeouts and connection errors. */
  statusCounts: Record<number | 'error', number>;
  /** Every attempt of every delivery. */
  attempts: number;
  /**
   * update_id → the wait chosen before each of its retries, in ms (0 = at once), as computed from the
   * backoff and Retry-After: what a test asserts on, since measured intervals stretch on a busy machine.
   */
  waits: Map<number, number[]>;
}

interface Delivery {
  updateId: number;
  body: Buffer;
  attempts: number;
}

type Outcome = { status: number; retryAfterMs: number | undefined } | { error: Error };

export class TelegramSender {
  private readonly target: URL;
  private readonly agent: HttpAgent;
  private readonly connections: number;
  private readonly requestTimeoutMs: number;
  private readonly maxBackoffMs: number;
  private readonly deadlineMs: number;
  private readonly headers: Record<string, string>;
  /** Give-up callbacks of the running send() calls, so close() can end them. */
  private readonly aborts = new Set<() => void>();
  /** Pumps of the running send() calls: a finished request lets any of them start the next one. */
  private readonly pumps = new Set<() => void>();
  /**
   * Requests in flight over all send() calls (concurrent calls share the `connections` limit), each
   * settled once its answer is counted in `answered`.
   */
  private readonly unanswered = new Set<Promise<void>>();
  private closed = false;
  /**
   * Answers per HTTP status (and `error`) over every send() so far, counted as they come: a fault
   * test acts on them (ends an outage once the webhook has refused enough) instead of on the clock.
   */
  readonly answered: SendResult['statusCounts'] = {} as SendResult['statusCounts'];

  constructor(opts: TelegramSenderOptions) {
    this.target = new URL(opts.url);
    if (this.target.protocol !== 'http:' && this.target.protocol !== 'https:') {
      throw new Error(`TelegramSender: unsupported webhook URL protocol ${this.target.protocol}`);
    }
    this.connections = Math.max(1, opts.connections ?? 40);
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 4_000;
    this.deadlineMs = opts.deadlineMs ?? 60_000;
    const agentOptions = { keepAlive: true, maxSockets: this.connections, maxFreeSockets: this.connections };
    this.agent =
      this.target.protocol === 'https:'
        ? new HttpsAgent({ ...agentOptions, rejectUnauthorized: false })
        : new HttpAgent(agentOptions);
    this.headers = {
      'Content-Type': 'application/json',
      ...(opts.secret === undefined ? {} : { 'X-Telegram-Bot-Api-Secret-Token': opts.secret }),
    };
  }

  /**
   * Delivers every body (an object, or a string sent byte for byte) until 2xx or the deadline.
   * update_id is read from the body; a body without one (e.g. deliberately malformed JSON) gets the
   * synthetic id -(index + 1). Resolves when every update is acked or given up. Concurrent calls
   * share the `connections` limit, as deliveries of one bot do.
   */
  send(updates: Array<Record<string, unknown> | string>): Promise<SendResult> {
    if (this.closed) return Promise.reject(new Error('TelegramSender is closed'));
    const deadline = Date.now() + this.deadlineMs;
    const result: SendResult = {
      acked: new Map(),
      failed: [],
      // Only statuses actually seen get a key: an absent key reads as undefined, not 0.
      statusCounts: {} as SendResult['statusCounts'],
      attempts: 0,
      waits: new Map(),
    };
    const ready: Delivery[] = updates.map(toDelivery);
    const waiting = new Map<NodeJS.Timeout, Delivery>();
    let unfinished = ready.length;

    return new Promise<SendResult>((resolve) => {
      const finish = (delivery: Delivery, acked: boolean): void => {
        if (acked) result.acked.set(delivery.updateId, delivery.attempts);
        else result.failed.push(delivery.updateId);
        unfinished -= 1;
        if (unfinished === 0) {
          this.aborts.delete(abort);
          this.pumps.delete(pump);
          resolve(result);
        }
      };

      const abort = (): void => {
        for (const [timer, delivery] of waiting) {
          clearTimeout(timer);
          finish(delivery, false);
        }
        waiting.clear();
        for (const delivery of ready.splice(0)) finish(delivery, false);
      };

      const retryLater = (delivery: Delivery, delayMs: number): void => {
        if (this.closed || Date.now() + delayMs > deadline) return finish(delivery, false);
        result.waits.set(delivery.updateId, [...(result.waits.get(delivery.updateId) ?? []), delayMs]);
        if (delayMs <= 0) {
          ready.push(delivery);
          return;
        }
        const timer = setTimeout(() => {
          waiting.delete(timer);
          ready.push(delivery);
          pump();
        }, delayMs);
        waiting.set(timer, delivery);
      };

      const pump = (): void => {
        while (this.unanswered.size < this.connections) {
          const delivery = ready.shift();
          if (delivery === undefined) return;
          // Queued behind a full set of connections past the deadline: Telegram would have dropped it.
          if (this.closed || Date.now() > deadline) {
            finish(delivery, false);
            continue;
          }
          delivery.attempts += 1;
          result.attempts += 1;
          const answer = this.attempt(delivery.body).then((outcome) => {
            this.unanswered.delete(answer);
            const key = 'status' in outcome ? outcome.status : 'error';
            result.statusCounts[key] = (result.statusCounts[key] ?? 0) + 1;
            this.answered[key] = (this.answered[key] ?? 0) + 1;
            if ('status' in outcome && outcome.status >= 200 && outcome.status < 300) {
              finish(delivery, true);
            } else {
              const retryAfterMs = 'status' in outcome ? outcome.retryAfterMs : undefined;
              retryLater(delivery, this.backoff(delivery.attempts, retryAfterMs));
            }
            for (const next of [...this.pumps]) next();
          });
          this.unanswered.add(answer);
        }
      };

      if (unfinished === 0) {
        resolve(result);
        return;
      }
      this.aborts.add(abort);
      this.pumps.add(pump);
      pump();
    });
  }

  /**
   * Resolves once every request in flight now has its answer counted in `answered`; requests started
   * later are not waited for. Called after a broker is stopped, every update the broker acknowledged
   * has then been answered 200: a request started later reached the webhook with the broker gone.
   */
  async inFlightAnswered(): Promise<void> {
    await Promise.all([...this.unanswered]);
  }

  /** Gives up every pending delivery, aborts requests in flight and closes the keep-alive sockets. */
  close(): Promise<void> {
    this.closed = true;
    for (const abort of [...this.aborts]) abort();
    this.agent.destroy();
    return Promise.resolve();
  }

  /** Wait before the next attempt after `failedAttempts` failures: 0, then 1, 2, 4 … s, capped. */
  private backoff(failedAttempts: number, retryAfterMs: number | undefined): number {
    if (retryAfterMs !== undefined) return Math.min(retryAfterMs, this.maxBackoffMs);
    if (failedAttempts <= 1) return 0;
    return Math.min(1_000 * 2 ** (failedAttempts - 2), this.maxBackoffMs);
  }

  /** One POST; never rejects. */
  private attempt(body: Buffer): Promise<Outcome> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (outcome: Outcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const request = this.target.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = request(
        this.target,
        {
          method: 'POST',
          agent: this.agent,
          headers: { ...this.headers, 'Content-Length': String(body.length) },
        },
        (res: IncomingMessage) => {
          const status = res.statusCode ?? 0;
          const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
          // The answer counts once it is complete, as Telegram reads the whole response.
          res.on('end', () => settle({ status, retryAfterMs }));
          res.on('error', (error) => settle({ error }));
          res.on('close', () => settle({ error: new Error('connection closed before the answer ended') }));
          res.resume();
        },
      );
      // A whole-request timer, not a socket idle timeout: a server trickling bytes still times out.
      const timer = setTimeout(
        () => req.destroy(new Error(`no answer within ${this.requestTimeoutMs} ms`)),
        this.requestTimeoutMs,
      );
      req.on('error', (error) => settle({ error }));
      req.end(body);
    });
  }
}

function toDelivery(update: Record<string, unknown> | string, index: number): Delivery {
  let updateId: unknown;
  let body: Buffer;
  if (typeof update === 'string') {
    body = Buffer.from(update, 'utf8');
    try {
      updateId = (JSON.parse(update) as { update_id?: unknown } | null)?.update_id;
    } catch {
      updateId = undefined;
    }
  } else {
    body = Buffer.from(JSON.stringify(update), 'utf8');
    updateId = update.update_id;
  }
  return {
    updateId: typeof updateId === 'number' && Number.isFinite(updateId) ? updateId : -(index + 1),
    body,
    attempts: 0,
  };
}

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 §10.2.3), in milliseconds. */
function parseRetryAfter(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1_000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
