/**
 * A fake Telegram Bot API server on loopback: the end-to-end tests' Telegram, and the offline demo's
 * (`npm run demo`). It lives here, outside test/, because the demo ships it as a dev tool;
 * test/support/fake-bot-api.ts re-exports it.
 *
 * It answers like api.telegram.org (and tdlib/telegram-bot-api) for the handful of methods this
 * service calls: `{"ok":true,"result":…}` on success, `{"ok":false,"error_code":N,"description":"…"}`
 * with HTTP status N on failure, `parameters.retry_after` on 429. Every request is recorded so a test
 * can assert what the service actually sent, and faults (error answers, reset connections) can be
 * injected per method. See /work/shared/TELEGRAM.md for the contract it mimics.
 *
 * Tokens are secrets even in tests: nothing here logs them or puts them in an error message, except
 * an injected failure with `echo`, which does so on purpose.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitUntil } from './wait.js';

/** A bot the fake server knows; requests with any other token get `401 Unauthorized`. */
export interface FakeBot {
  token: string;
  id: number;
  username: string;
  firstName?: string;
}

/** A file part of a multipart/form-data request (e.g. setWebhook's `certificate`). */
export interface RecordedFile {
  filename: string;
  contentType: string;
  content: Buffer;
}

/** One request the server received, whatever its outcome (including injected failures and drops). */
export interface RecordedCall {
  /** Canonical method name (`setWebhook`), even if the client used another case: Telegram ignores case. */
  method: string;
  token: string;
  /** Query-string parameters merged with body parameters (the body wins). Form values are strings. */
  params: Record<string, unknown>;
  /** `Date.now()` when the request was received. */
  at: number;
  files?: Record<string, RecordedFile>;
}

/** getWebhookInfo's result, as Telegram shapes it (optional fields are absent, not null). */
export interface WebhookInfo {
  url: string;
  has_custom_certificate: boolean;
  pending_update_count: number;
  max_connections?: number;
  allowed_updates?: string[];
  ip_address?: string;
  last_error_date?: number;
  last_error_message?: string;
}

/** An injected error answer; see {@link FakeBotApi.failNext}. */
export interface FailureOptions {
  status: number;
  description?: string;
  /** Seconds, sent as `parameters.retry_after`. A 429 always carries it (default 1). */
  retryAfter?: number;
  /** How many matching calls fail (default 1). */
  times?: number;
  /** Only calls with this token fail; others pass untouched. */
  token?: string;
  /**
   * Echoes the request in the description, as a misbehaving proxy or Bot API server might (and
   * unlike everything else here, puts the token into it): `'path'` appends
   * `: method /bot<token>/<method> not found`, `'params'` also ` with <the parameters as JSON>`
   * (setWebhook's `secret_token` included). For tests that output never leaks what comes back.
   */
  echo?: 'path' | 'params';
}

export type RealisticUpdateKind =
  'message' | 'callback_query' | 'edited_message' | 'inline_query' | 'pre_checkout_query' | 'shipping_query';

type Params = Record<string, unknown>;
type Files = Record<string, RecordedFile>;

interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
}

interface BotState {
  bot: FakeBot;
  webhook: {
    url: string;
    hasCustomCertificate: boolean;
    maxConnections?: number;
    allowedUpdates?: string[];
    ipAddress?: string;
    secretToken?: string;
    lastErrorDate?: number;
    lastErrorMessage?: string;
  };
  pending: object[];
  nextMessageId: number;
}

interface FailureRule {
  method: string;
  token?: string;
  status: number;
  description: string;
  retryAfter?: number;
  echo?: 'path' | 'params';
  remaining: number;
}

interface DropRule {
  method: string;
  remaining: number;
}

/** Telegram treats method names case-insensitively; calls are recorded under these spellings. */
const KNOWN_METHODS = ['getMe', 'setWebhook', 'deleteWebhook', 'getWebhookInfo', 'getUpdates', 'sendMessage'];
const CANONICAL_METHOD = new Map(KNOWN_METHODS.map((name) => [name.toLowerCase(), name]));

const WEBHOOK_PORTS = new Set([80, 88, 443, 8443]);
const SECRET_TOKEN = /^[A-Za-z0-9_-]{1,256}$/;
/** getUpdates long polling is capped so a test never waits long for an empty answer. */
const MAX_LONG_POLL_MS = 2_000;
const MAX_BODY_BYTES = 50 * 1024 * 1024;

const DEFAULT_DESCRIPTIONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

class BadRequest extends Error {}

export class FakeBotApi {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`; use it as TELEGRAM_API_URL. */
  readonly url: string;

  private readonly bots = new Map<string, BotState>();
  private readonly recorded: RecordedCall[] = [];
  private readonly sent: Array<{ token: string; chat_id: unknown; text: unknown }> = [];
  private readonly failures: FailureRule[] = [];
  private readonly drops: DropRule[] = [];
  /** Wakes getUpdates long polls when updates arrive or the server closes. */
  private readonly pollWaiters = new Set<() => void>();
  /** Recorded calls not answered yet, and the most there were at once since the last clearCalls(). */
  private inFlight = 0;
  private mostInFlight = 0;

  private constructor(
    private readonly server: Server,
    port: number,
    private readonly delayMs: number,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  /**
   * Starts a server on 127.0.0.1; `port` 0 (the default) picks a free one. `delayMs`: every answer
   * waits this long, like a Bot API far away (the start-up benchmark's 50 ms).
   */
  static async start(
    options: { bots?: FakeBot[]; port?: number; delayMs?: number } = {},
  ): Promise<FakeBotApi> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const api = new FakeBotApi(server, (server.address() as AddressInfo).port, options.delayMs ?? 0);
    for (const bot of options.bots ?? []) api.addBot(bot);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      api.handle(req, res).catch(() => {
        // A bug in the fake must still answer, or the client under test would hang until its timeout.
        if (!res.headersSent) send(res, failure(500, 'Internal Server Error'));
        else res.destroy();
      });
    });
    return api;
  }

  /** Registers a bot (or resets one with the same token to a clean state). */
  addBot(bot: FakeBot): void {
    this.bots.set(bot.token, {
      bot: { ...bot },
      webhook: { url: '', hasCustomCertificate: false },
      pending: [],
      nextMessageId: 1,
    });
  }

  /** Recorded calls in arrival order, optionally only of one method and/or one token. */
  calls(method?: string, token?: string): RecordedCall[] {
    const wanted = method === undefined ? undefined : canonicalMethod(method);
    return this.recorded.filter(
      (call) =>
        (wanted === undefined || call.method === wanted) && (token === undefined || call.token === token),
    );
  }

  /** The most calls the server held at once (received, not answered yet) since the last clearCalls(). */
  get maxConcurrentCalls(): number {
    return this.mostInFlight;
  }

  clearCalls(): void {
    this.mostInFlight = this.inFlight;
    this.recorded.length = 0;
    this.sent.length = 0;
  }

  /**
   * Makes the next `times` calls of `method` (optionally only for one token) fail with this status and
   * description. A 429 adds `parameters.retry_after` (default 1 s), as Telegram's flood control does.
   * Injected failures are checked before the token, so they apply even to unknown tokens.
   */
  failNext(method: string, opts: FailureOptions): void {
    const retryAfter = opts.retryAfter ?? (opts.status === 429 ? 1 : undefined);
    const description =
      opts.description ??
      (opts.status === 429
        ? `Too Many Requests: retry after ${retryAfter}`
        : (DEFAULT_DESCRIPTIONS[opts.status] ?? 'Error'));
    this.failures.push({
      method: canonicalMethod(method),
      status: opts.status,
      description,
      remaining: opts.times ?? 1,
      ...(opts.token === undefined ? {} : { token: opts.token }),
      ...(retryAfter === undefined ? {} : { retryAfter }),
      ...(opts.echo === undefined ? {} : { echo: opts.echo }),
    });
  }

  /** Makes the server reset the TCP connection (a network error for the client) on the next `times` calls. */
  dropNext(method: string, times = 1): void {
    this.drops.push({ method: canonicalMethod(method), remaining: times });
  }

  /** What getWebhookInfo would answer for this bot. Throws for an unknown token. */
  webhookInfo(token: string): WebhookInfo {
    const { webhook, pending } = this.state(token);
    return {
      url: webhook.url,
      has_custom_certificate: webhook.hasCustomCertificate,
      pending_update_count: pending.length,
      ...(webhook.url !== '' && webhook.maxConnections !== undefined
        ? { max_connections: webhook.maxConnections }
        : {}),
      ...(webhook.url !== '' && webhook.ipAddress !== undefined ? { ip_address: webhook.ipAddress } : {}),
      ...(webhook.allowedUpdates === undefined ? {} : { allowed_updates: [...webhook.allowedUpdates] }),
      ...(webhook.lastErrorDate === undefined ? {} : { last_error_date: webhook.lastErrorDate }),
      ...(webhook.lastErrorMessage === undefined ? {} : { last_error_message: webhook.lastErrorMessage }),
    };
  }

  /**
   * The secret_token of the current webhook. The real API never reveals it; tests need it to deliver
   * updates the way Telegram would.
   */
  webhookSecret(token: string): string | undefined {
    return this.state(token).webhook.secretToken;
  }

  /** Sets `last_error_date`/`last_error_message`, as Telegram does after a failed delivery. */
  setWebhookError(token: string, message: string, date = Math.floor(Date.now() / 1000)): void {
    const { webhook } = this.state(token);
    webhook.lastErrorMessage = message;
    webhook.lastErrorDate = date;
  }

  /** Replaces the bot's pending updates (served by getUpdates, counted in pending_update_count). */
  setPendingUpdates(token: string, updates: object[]): void {
    this.state(token).pending = [...updates];
    this.wakePolls();
  }

  /** Messages accepted by sendMessage, in order. */
  sentMessages(): Array<{ token: string; chat_id: unknown; text: unknown }> {
    return this.sent.map((message) => ({ ...message }));
  }

  /** Resolves once `predicate()` is true (checked every 10 ms); rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
    return waitUntil(predicate, timeoutMs, 10, 'FakeBotApi.waitFor: condition not met');
  }

  /** Stops listening and drops open (keep-alive) connections so the test process can exit. */
  async close(): Promise<void> {
    this.wakePolls();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestUrl = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = /^\/bot([^/]+)\/([A-Za-z0-9_]+)\/?$/.exec(requestUrl.pathname);
    if (route === null) {
      // Telegram answers this for paths that are not /bot<token>/<method>.
      return send(res, failure(404, 'Not Found'));
    }
    const token = decodeURIComponent(route[1] ?? '');
    const method = canonicalMethod(route[2] ?? '');

    let params: Params;
    let files: Files;
    try {
      ({ params, files } = await readParams(req, requestUrl));
    } catch (error) {
      const description = error instanceof BadRequest ? error.message : 'Bad Request: invalid request body';
      return send(res, failure(400, description));
    }
    this.recorded.push({
      method,
      token,
      params,
      at: Date.now(),
      ...(Object.keys(files).length > 0 ? { files } : {}),
    });
    this.mostInFlight = Math.max(this.mostInFlight, ++this.inFlight);
    res.once('close', () => this.inFlight--);
    // Recorded on arrival (`at`), answered after the delay.
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));

    if (takeRule(this.drops, (rule) => rule.method === method) !== undefined) {
      // An RST, not a FIN: the client sees ECONNRESET, like a proxy or Telegram edge failing mid-call.
      req.socket.resetAndDestroy();
      return;
    }
    const injected = takeRule(
      this.failures,
      (rule) => rule.method === method && (rule.token === undefined || rule.token === token),
    );
    if (injected !== undefined) {
      const echoed =
        injected.echo === undefined
          ? ''
          : `: method ${requestUrl.pathname} not found` +
            (injected.echo === 'params' ? ` with ${JSON.stringify(params)}` : '');
      return send(res, failure(injected.status, injected.description + echoed, injected.retryAfter));
    }

    const state = this.bots.get(token);
    if (state === undefined) return send(res, failure(401, 'Unauthorized'));
    send(res, await this.dispatch(method, state, params, files));
  }

  private async dispatch(method: string, state: BotState, params: Params, files: Files): Promise<ApiAnswer> {
    switch (method) {
      case 'getMe':
        return success(botUser(state.bot, true));
      case 'setWebhook':
        return this.setWebhook(state, params, files);
      case 'deleteWebhook': {
        const had = state.webhook.url !== '';
        state.webhook = { ...state.webhook, url: '', hasCustomCertificate: false };
        delete state.webhook.maxConnections;
        delete state.webhook.ipAddress;
        delete state.webhook.secretToken;
        if (flag(params.drop_pending_updates)) state.pending = [];
        return success(true, had ? 'Webhook was deleted' : 'Webhook is already deleted');
      }
      case 'getWebhookInfo':
        return success(this.webhookInfo(state.bot.token));
      case 'getUpdates':
        return this.getUpdates(state, params);
      case 'sendMessage':
        return this.sendMessage(state, params);
      default:
        return failure(404, 'Not Found: method not found');
    }
  }

  /** Validates like tdlib/telegram-bot-api's Client::process_set_webhook_query. */
  private setWebhook(state: BotState, params: Params, files: Files): ApiAnswer {
    const url = text(params.url) ?? '';
    if (url === '') {
      // An empty url removes the webhook (Telegram answers as deleteWebhook does).
      const had = state.webhook.url !== '';
      state.webhook = { ...state.webhook, url: '', hasCustomCertificate: false };
      delete state.webhook.secretToken;
      if (flag(params.drop_pending_updates)) state.pending = [];
      return success(true, had ? 'Webhook was deleted' : 'Webhook is already deleted');
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return failure(400, "Bad Request: can't parse URL");
    }
    if (parsed.protocol !== 'https:') {
      return failure(400, 'Bad Request: bad webhook: HTTPS url must be provided for webhook');
    }
    const port = parsed.port === '' ? 443 : Number(parsed.port);
    if (!WEBHOOK_PORTS.has(port)) {
      return failure(
        400,
        'Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443',
      );
    }
    // The real server reads an empty parameter as an absent one, so "" means "no secret".
    const secretToken = text(params.secret_token) ?? '';
    if (secretToken !== '' && !SECRET_TOKEN.test(secretToken)) {
      return failure(400, 'Bad Request: secret token contains unallowed characters');
    }
    let allowedUpdates: string[] | undefined;
    try {
      allowedUpdates = parseAllowedUpdates(params.allowed_updates);
    } catch {
      return failure(400, "Bad Request: can't parse allowed updates JSON object");
    }
    // tdlib clamps max_connections into 1..100 rather than rejecting it (get_integer_arg).
    const maxConnections = Math.min(100, Math.max(1, integer(params.max_connections) ?? 40));
    const ipAddress = text(params.ip_address);

    state.webhook.url = url;
    state.webhook.hasCustomCertificate = files.certificate !== undefined;
    state.webhook.maxConnections = maxConnections;
    if (ipAddress === undefined || ipAddress === '') delete state.webhook.ipAddress;
    else state.webhook.ipAddress = ipAddress;
    if (secretToken === '') delete state.webhook.secretToken;
    else state.webhook.secretToken = secretToken;
    // Omitted allowed_updates keeps the previous list (TELEGRAM.md, setWebhook).
    if (allowedUpdates !== undefined) state.webhook.allowedUpdates = allowedUpdates;
    if (flag(params.drop_pending_updates)) state.pending = [];
    return success(true, 'Webhook was set');
  }

  private async getUpdates(state: BotState, params: Params): Promise<ApiAnswer> {
    if (state.webhook.url !== '') {
      return failure(
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
      );
    }
    const offset = integer(params.offset);
    const limit = Math.min(100, Math.max(1, integer(params.limit) ?? 100));
    const timeoutMs = Math.min(MAX_LONG_POLL_MS, Math.max(0, (integer(params.timeout) ?? 0) * 1000));

    // An offset confirms every earlier update; a negative one keeps only the last -offset updates.
    if (offset !== undefined && offset !== 0) {
      state.pending =
        offset > 0
          ? state.pending.filter((update) => updateIdOf(update) >= offset)
          : state.pending.slice(offset);
    }
    if (state.pending.length === 0 && timeoutMs > 0) {
      await this.waitForUpdates(timeoutMs);
      if (offset !== undefined && offset > 0) {
        state.pending = state.pending.filter((update) => updateIdOf(update) >= offset);
      }
    }
    return success(state.pending.slice(0, limit));
  }

  private sendMessage(state: BotState, params: Params): ApiAnswer {
    const chatId = params.chat_id;
    const messageText = text(params.text);
    if (chatId === undefined || chatId === '') return failure(400, 'Bad Request: chat_id is empty');
    if (messageText === undefined || messageText === '')
      return failure(400, 'Bad Request: message text is empty');
    this.sent.push({ token: state.bot.token, chat_id: chatId, text: messageText });
    return success({
      message_id: state.nextMessageId++,
      from: botUser(state.bot, false),
      chat: chatFor(chatId),
      date: Math.floor(Date.now() / 1000),
      text: messageText,
    });
  }

  private waitForUpdates(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.pollWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.pollWaiters.add(done);
    });
  }

  private wakePolls(): void {
    for (const wake of [...this.pollWaiters]) wake();
  }

  private state(token: string): BotState {
    const state = this.bots.get(token);
    // Deliberately without the token: it must not end up in test output.
    if (state === undefined) throw new Error('FakeBotApi: no bot is registered with that token');
    return state;
  }
}

/**
 * A realistic Update object (about 600 bytes of JSON) of the given kind, deterministic for an update_id.
 * `chatId` below zero makes a supergroup chat; the default is a private chat derived from the id.
 */
export function realisticUpdate(
  updateId: number,
  opts: { chatId?: number; text?: string; type?: RealisticUpdateKind } = {},
): Record<string, unknown> {
  const chatId = opts.chatId ?? 700_000_000 + (updateId % 100_000);
  const userId = chatId > 0 ? chatId : 700_000_000 + (updateId % 100_000);
  const date = Math.floor(Date.now() / 1000) - 1;
  const user = {
    id: userId,
    is_bot: false,
    first_name: 'Alice',
    last_name: 'Example',
    username: 'alice_example',
    language_code: 'en',
    is_premium: true,
  };
  const chat =
    chatId > 0
      ? { id: chatId, first_name: 'Alice', last_name: 'Example', username: 'alice_example', type: 'private' }
      : { id: chatId, title: 'Receiver test group', username: 'receiver_test_group', type: 'supergroup' };
  const messageText =
    opts.text ?? `/start ref_${updateId} Hello from a realistic test update, with a little more text 👋`;
  const message = {
    message_id: 1_000 + (updateId % 1_000_000),
    from: user,
    chat,
    date,
    text: messageText,
    ...(messageText.startsWith('/')
      ? { entities: [{ offset: 0, length: messageText.split(' ')[0]?.length ?? 1, type: 'bot_command' }] }
      : {}),
  };
  const queryId = String(4_300_000_000_000_000_000n + BigInt(Math.abs(updateId)));
  const payload = `order-${updateId}-3f9c2b7a`;

  switch (opts.type ?? 'message') {
    case 'message':
      return { update_id: updateId, message: { ...message, link_preview_options: { is_disabled: true } } };
    case 'edited_message':
      return { update_id: updateId, edited_message: { ...message, edit_date: date + 1 } };
    case 'callback_query':
      return {
        update_id: updateId,
        callback_query: {
          id: queryId,
          from: user,
          message: {
            message_id: message.message_id,
            from: {
              id: 6_000_000_001,
              is_bot: true,
              first_name: 'Receiver test bot',
              username: 'receiver_test_bot',
            },
            chat,
            date,
            text: 'Do you want to continue?',
            reply_markup: {
              inline_keyboard: [
                [
                  { text: 'Yes', callback_data: `yes:${updateId}` },
                  { text: 'No', callback_data: `no:${updateId}` },
                ],
              ],
            },
          },
          chat_instance: '-4852136957412365478',
          data: `yes:${updateId}`,
        },
      };
    case 'inline_query':
      return {
        update_id: updateId,
        inline_query: {
          id: queryId,
          from: user,
          chat_type: 'sender',
          query: opts.text ?? 'cats in space, wallpapers and other realistic inline search terms',
          offset: '',
          location: { latitude: 52.520008, longitude: 13.404954 },
        },
      };
    case 'pre_checkout_query':
      return {
        update_id: updateId,
        pre_checkout_query: {
          id: queryId,
          from: user,
          currency: 'EUR',
          total_amount: 1_499,
          invoice_payload: payload,
          shipping_option_id: 'dhl-standard',
          order_info: {
            name: 'Alice Example',
            phone_number: '4915112345678',
            email: 'alice@example.com',
            shipping_address: {
              country_code: 'DE',
              state: '',
              city: 'Berlin',
              street_line1: 'Unter den Linden 1',
              street_line2: '',
              post_code: '10117',
            },
          },
        },
      };
    case 'shipping_query':
      return {
        update_id: updateId,
        shipping_query: {
          id: queryId,
          from: user,
          invoice_payload: payload,
          shipping_address: {
            country_code: 'DE',
            state: '',
            city: 'Berlin',
            street_line1: 'Unter den Linden 1',
            street_line2: 'Building B, 3rd floor',
            post_code: '10117',
          },
        },
      };
  }
}

function canonicalMethod(method: string): string {
  return CANONICAL_METHOD.get(method.toLowerCase()) ?? method;
}

/** Takes one use of the first matching rule, dropping rules that are used up. */
function takeRule<T extends { remaining: number }>(rules: T[], matches: (rule: T) => boolean): T | undefined {
  const index = rules.findIndex((rule) => rule.remaining > 0 && matches(rule));
  const rule = rules[index];
  if (rule === undefined) return undefined;
  rule.remaining -= 1;
  if (rule.remaining <= 0) rules.splice(index, 1);
  return rule;
}

function success(result: unknown, description?: string): ApiAnswer {
  return { status: 200, body: { ok: true, result, ...(description === undefined ? {} : { description }) } };
}

function failure(status: number, description: string, retryAfter?: number): ApiAnswer {
  return {
    status,
    body: {
      ok: false,
      error_code: status,
      description,
      ...(retryAfter === undefined ? {} : { parameters: { retry_after: retryAfter } }),
    },
  };
}

function send(res: ServerResponse, answer: ApiAnswer): void {
  const body = JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

function botUser(bot: FakeBot, withCapabilities: boolean): Record<string, unknown> {
  const user = {
    id: bot.id,
    is_bot: true,
    first_name: bot.firstName ?? bot.username,
    username: bot.username,
  };
  if (!withCapabilities) return user;
  return {
    ...user,
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
  };
}

function chatFor(chatId: unknown): Record<string, unknown> {
  if (typeof chatId === 'string' && chatId.startsWith('@')) {
    return { id: -1_001_000_000_001, title: chatId.slice(1), username: chatId.slice(1), type: 'channel' };
  }
  const id = typeof chatId === 'number' ? chatId : Number(chatId);
  return id < 0
    ? { id, title: 'Test group', type: 'supergroup' }
    : { id, first_name: 'Test', type: 'private' };
}

function updateIdOf(update: object): number {
  const id = (update as { update_id?: unknown }).update_id;
  return typeof id === 'number' ? id : Number.NaN;
}

/** A parameter as a string; JSON numbers and booleans are accepted as Telegram does. */
function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function integer(value: unknown): number | undefined {
  const raw = text(value);
  if (raw === undefined || raw.trim() === '') return undefined;
  const parsed = Number(raw);
  return Number.isFinite(parsed) ? Math.trunc(parsed) : undefined;
}

function flag(value: unknown): boolean {
  return value === true || value === 'true' || value === '1' || value === 1;
}

/** allowed_updates arrives as a JSON array (JSON body) or a JSON-encoded string (form, query). */
function parseAllowedUpdates(value: unknown): string[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const list: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (!Array.isArray(list)) throw new Error('allowed_updates is not a list');
  return list.map((item) => String(item));
}

async function readParams(req: IncomingMessage, url: URL): Promise<{ params: Params; files: Files }> {
  const params: Params = Object.fromEntries(url.searchParams);
  const files: Files = {};
  const body = await readBody(req);
  if (body.length === 0) return { params, files };

  const contentType = req.headers['content-type'] ?? '';
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  switch (mediaType) {
    case 'application/json': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        throw new BadRequest("Bad Request: can't parse JSON object");
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new BadRequest('Bad Request: JSON object expected');
      }
      Object.assign(params, parsed);
      break;
    }
    case 'application/x-www-form-urlencoded':
      Object.assign(params, Object.fromEntries(new URLSearchParams(body.toString('utf8'))));
      break;
    case 'multipart/form-data':
      parseMultipart(body, contentType, params, files);
      break;
    default:
      // Telegram ignores bodies of other types; so do we.
      break;
  }
  return { params, files };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BadRequest('Bad Request: request body is too big'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Minimal multipart/form-data parser (RFC 7578), enough for what HTTP clients send to the Bot API:
 * text fields become string parameters, parts with a filename become files.
 */
function parseMultipart(body: Buffer, contentType: string, params: Params, files: Files): void {
  const boundaryMatch = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = boundaryMatch?.[1] ?? boundaryMatch?.[2];
  if (boundary === undefined) throw new BadRequest('Bad Request: multipart boundary is missing');

  const delimiter = Buffer.from(`--${boundary}`);
  const nextDelimiter = Buffer.from(`\r\n--${boundary}`);
  let position = body.indexOf(delimiter);
  if (position < 0) throw new BadRequest("Bad Request: can't parse multipart body");
  position += delimiter.length;

  for (;;) {
    // "--" right after a delimiter closes the body.
    if (body[position] === 0x2d && body[position + 1] === 0x2d) return;
    if (body[position] === 0x0d && body[position + 1] === 0x0a) position += 2;

    const headersEnd = body.indexOf('\r\n\r\n', position);
    if (headersEnd < 0) throw new BadRequest("Bad Request: can't parse multipart body");
    const headers = parsePartHeaders(body.subarray(position, headersEnd).toString('utf8'));
    const contentStart = headersEnd + 4;
    const contentEnd = body.indexOf(nextDelimiter, contentStart);
    if (contentEnd < 0) throw new BadRequest("Bad Request: can't parse multipart body");
    const content = Buffer.from(body.subarray(contentStart, contentEnd));

    const disposition = headers.get('content-disposition') ?? '';
    const name = dispositionParam(disposition, 'name');
    const filename = dispositionParam(disposition, 'filename');
    if (name !== undefined) {
      if (filename !== undefined) {
        files[name] = {
          filename,
          contentType: headers.get('content-type') ?? 'application/octet-stream',
          content,
        };
      } else {
        params[name] = content.toString('utf8');
      }
    }
    position = contentEnd + nextDelimiter.length;
  }
}

function parsePartHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

function dispositionParam(disposition: string, key: string): string | undefined {
  const pattern = new RegExp(`;\\s*${key}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;]*))`, 'i');
  const match = pattern.exec(disposition);
  if (match === null) return undefined;
  return match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[2]?.trim();
}
