/**
 * Tests of the test support code itself (fake Bot API, private brokers, Telegram-like sender), so the
 * end-to-end tests built on it can be trusted.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import mqtt from 'mqtt';
import {
  freePort,
  isPortOpen,
  startPrivateMosquitto,
  startPrivateNats,
  startPrivateRedis,
  type PrivateBroker,
  waitForPort,
} from './support/brokers.js';
import {
  FakeBotApi,
  realisticUpdate,
  type FakeBot,
  type RealisticUpdateKind,
} from './support/fake-bot-api.js';
import { TelegramSender } from './support/telegram-sender.js';
import { waitUntil } from './support/wait.js';

const BOT: FakeBot = {
  token: '123456789:AAE-test_token_for_the_fake_api',
  id: 123456789,
  username: 'receiver_test_bot',
};
const SHARED_PORTS = [6379, 1883, 5672, 4222];

interface ApiReply {
  status: number;
  body: { ok: boolean; result?: unknown; error_code?: number; description?: string; parameters?: unknown };
}

async function callApi(
  api: FakeBotApi,
  method: string,
  params: Record<string, unknown> = {},
  token = BOT.token,
): Promise<ApiReply> {
  const response = await fetch(`${api.url}/bot${token}/${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(params),
  });
  return { status: response.status, body: (await response.json()) as ApiReply['body'] };
}

describe('FakeBotApi', () => {
  let api: FakeBotApi;

  beforeEach(async () => {
    api = await FakeBotApi.start({ bots: [BOT] });
  });

  afterEach(async () => {
    await api.close();
  });

  it('answers getMe with the bot and records the call', async () => {
    const reply = await callApi(api, 'getMe');

    expect(reply).toEqual({
      status: 200,
      body: {
        ok: true,
        result: expect.objectContaining({
          id: BOT.id,
          is_bot: true,
          first_name: BOT.username,
          username: BOT.username,
          can_join_groups: true,
          can_read_all_group_messages: false,
          supports_inline_queries: false,
        }),
      },
    });
    expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(api.calls('getMe')).toEqual([
      { method: 'getMe', token: BOT.token, params: {}, at: expect.any(Number) },
    ]);
  });

  it('answers 401 Unauthorized for an unknown token and 404 for an unknown method', async () => {
    expect(await callApi(api, 'getMe', {}, '987:unknown')).toEqual({
      status: 401,
      body: { ok: false, error_code: 401, description: 'Unauthorized' },
    });
    expect(await callApi(api, 'sendDice')).toEqual({
      status: 404,
      body: { ok: false, error_code: 404, description: 'Not Found: method not found' },
    });
  });

  it('validates setWebhook like Telegram and stores what it accepted', async () => {
    const badPort = await callApi(api, 'setWebhook', { url: 'https://example.com:8080/hook' });
    expect(badPort).toEqual({
      status: 400,
      body: {
        ok: false,
        error_code: 400,
        description: 'Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443',
      },
    });
    const plainHttp = await callApi(api, 'setWebhook', { url: 'http://example.com/hook' });
    expect(plainHttp.status).toBe(400);
    const badSecret = await callApi(api, 'setWebhook', {
      url: 'https://example.com/hook',
      secret_token: 'not allowed!',
    });
    expect(badSecret).toEqual({
      status: 400,
      body: {
        ok: false,
        error_code: 400,
        description: 'Bad Request: secret token contains unallowed characters',
      },
    });
    const tooLong = await callApi(api, 'setWebhook', {
      url: 'https://example.com/hook',
      secret_token: 'a'.repeat(257),
    });
    expect(tooLong.status).toBe(400);
    expect(api.webhookInfo(BOT.token).url).toBe('');

    // Form-encoded, as many clients send it: allowed_updates is then a JSON string.
    const form = new URLSearchParams({
      url: 'https://example.com:8443/hook',
      secret_token: 'Secret_token-123',
      max_connections: '7',
      allowed_updates: '["message","callback_query"]',
    });
    const response = await fetch(`${api.url}/bot${BOT.token}/setWebhook`, { method: 'POST', body: form });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, result: true, description: 'Webhook was set' });

    const expectedInfo = {
      url: 'https://example.com:8443/hook',
      has_custom_certificate: false,
      pending_update_count: 0,
      max_connections: 7,
      allowed_updates: ['message', 'callback_query'],
    };
    expect(api.webhookInfo(BOT.token)).toEqual(expectedInfo);
    expect(api.webhookSecret(BOT.token)).toBe('Secret_token-123');
    expect(await callApi(api, 'getWebhookInfo')).toEqual({
      status: 200,
      body: { ok: true, result: expectedInfo },
    });
    expect(api.calls('setWebhook').map((call) => call.params.max_connections)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      '7',
    ]);
  });

  it('fails the next calls on demand with 429 and retry_after, then recovers', async () => {
    api.failNext('setWebhook', { status: 429, retryAfter: 3, times: 2 });

    for (let i = 0; i < 2; i += 1) {
      expect(await callApi(api, 'setWebhook', { url: 'https://example.com/hook' })).toEqual({
        status: 429,
        body: {
          ok: false,
          error_code: 429,
          description: 'Too Many Requests: retry after 3',
          parameters: { retry_after: 3 },
        },
      });
    }
    expect((await callApi(api, 'setWebhook', { url: 'https://example.com/hook' })).status).toBe(200);
    expect(api.calls('setWebhook')).toHaveLength(3);
  });

  it('limits injected failures to one token when asked', async () => {
    const other: FakeBot = { token: '555:other', id: 555, username: 'other_bot' };
    api.addBot(other);
    api.failNext('getMe', { status: 500, token: other.token });

    expect((await callApi(api, 'getMe')).status).toBe(200);
    expect(await callApi(api, 'getMe', {}, other.token)).toEqual({
      status: 500,
      body: { ok: false, error_code: 500, description: 'Internal Server Error' },
    });
    expect((await callApi(api, 'getMe', {}, other.token)).status).toBe(200);
  });

  it('resets the connection on dropNext', async () => {
    api.dropNext('getMe');

    await expect(callApi(api, 'getMe')).rejects.toThrow();
    expect((await callApi(api, 'getMe')).status).toBe(200);
    expect(api.calls('getMe')).toHaveLength(2);
  });

  it('refuses getUpdates with 409 while a webhook is set, and serves pending updates after deleteWebhook', async () => {
    api.setPendingUpdates(BOT.token, [realisticUpdate(10), realisticUpdate(11), realisticUpdate(12)]);
    await callApi(api, 'setWebhook', { url: 'https://example.com/hook' });
    expect(api.webhookInfo(BOT.token).pending_update_count).toBe(3);

    expect(await callApi(api, 'getUpdates')).toEqual({
      status: 409,
      body: {
        ok: false,
        error_code: 409,
        description:
          "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
      },
    });

    expect(await callApi(api, 'deleteWebhook')).toEqual({
      status: 200,
      body: { ok: true, result: true, description: 'Webhook was deleted' },
    });
    const first = await callApi(api, 'getUpdates', { limit: 2 });
    expect((first.body.result as Array<{ update_id: number }>).map((u) => u.update_id)).toEqual([10, 11]);
    const confirmed = await callApi(api, 'getUpdates', { offset: 12 });
    expect((confirmed.body.result as Array<{ update_id: number }>).map((u) => u.update_id)).toEqual([12]);
    expect(api.webhookInfo(BOT.token).pending_update_count).toBe(1);
  });

  it('answers a long poll as soon as an update arrives', async () => {
    const polls = api.calls('getUpdates').length;
    const poll = callApi(api, 'getUpdates', { offset: 20, timeout: 30 });
    // Only once the poll is held: an update queued before it arrives would be answered at once anyway.
    await api.waitFor(() => api.calls('getUpdates').length > polls);
    const started = Date.now();
    api.setPendingUpdates(BOT.token, [realisticUpdate(20)]);

    const reply = await poll;

    expect((reply.body.result as Array<{ update_id: number }>).map((u) => u.update_id)).toEqual([20]);
    expect(Date.now() - started).toBeLessThan(10_000); // not the poll's 30 s timeout
  });

  it('parses multipart/form-data and records the uploaded certificate', async () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIBfake\r\n--not-a-boundary\n-----END CERTIFICATE-----\n';
    const form = new FormData();
    form.append('url', 'https://203.0.113.7:88/hook');
    form.append('secret_token', 'abc');
    form.append('certificate', new Blob([pem], { type: 'application/x-pem-file' }), 'cert.pem');

    const response = await fetch(`${api.url}/bot${BOT.token}/setWebhook`, { method: 'POST', body: form });

    expect(response.status).toBe(200);
    const [call] = api.calls('setWebhook');
    expect(call?.params).toEqual({ url: 'https://203.0.113.7:88/hook', secret_token: 'abc' });
    expect(call?.files?.certificate?.filename).toBe('cert.pem');
    expect(call?.files?.certificate?.contentType).toBe('application/x-pem-file');
    expect(call?.files?.certificate?.content.toString('utf8')).toBe(pem);
    expect(api.webhookInfo(BOT.token).has_custom_certificate).toBe(true);
  });

  it('records sendMessage and answers with a Message', async () => {
    const reply = await callApi(api, 'sendMessage', { chat_id: 42, text: 'hello' });

    expect(reply.status).toBe(200);
    expect(reply.body.result).toEqual(
      expect.objectContaining({ message_id: 1, chat: expect.objectContaining({ id: 42 }), text: 'hello' }),
    );
    expect(api.sentMessages()).toEqual([{ token: BOT.token, chat_id: 42, text: 'hello' }]);
    expect((await callApi(api, 'sendMessage', { chat_id: 42 })).status).toBe(400);
  });

  it('generates realistic updates of each kind', () => {
    const kinds: RealisticUpdateKind[] = [
      'message',
      'callback_query',
      'edited_message',
      'inline_query',
      'pre_checkout_query',
      'shipping_query',
    ];
    for (const type of kinds) {
      const update = realisticUpdate(7, { type, chatId: -100123 });
      expect(Object.keys(update)).toEqual(['update_id', type]);
      expect(update.update_id).toBe(7);
      const size = Buffer.byteLength(JSON.stringify(update));
      expect(size).toBeGreaterThan(350);
      expect(size).toBeLessThan(900);
    }
    expect(realisticUpdate(1, { text: 'hi', chatId: 5 })).toEqual({
      update_id: 1,
      message: expect.objectContaining({
        text: 'hi',
        chat: expect.objectContaining({ id: 5, type: 'private' }),
      }),
    });
  });
});

describe('private brokers', () => {
  async function ping(url: string): Promise<string> {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await client.connect();
      return await client.ping();
    } finally {
      client.disconnect();
    }
  }

  function connectError(port: number): Promise<string | undefined> {
    return new Promise((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code));
    });
  }

  function within<T>(ms: number, promise: Promise<T>): Promise<T> {
    return Promise.race([
      promise,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`no result within ${ms} ms`)), ms).unref(),
      ),
    ]);
  }

  /** MQTT 3.1.1 CONNECT with a clean session; resolves with the first bytes the broker answers. */
  function mqttConnect(port: number): Promise<Buffer> {
    const clientId = Buffer.from('support-probe');
    const variableHeader = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c]);
    const payload = Buffer.concat([Buffer.from([0x00, clientId.length]), clientId]);
    const packet = Buffer.concat([
      Buffer.from([0x10, variableHeader.length + payload.length]),
      variableHeader,
      payload,
    ]);
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' }, () => socket.write(packet));
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data);
      });
      socket.once('error', reject);
    });
  }

  function firstLine(port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' });
      let received = '';
      socket.on('data', (data: Buffer) => {
        received += data.toString('utf8');
        const end = received.indexOf('\r\n');
        if (end >= 0) {
          socket.destroy();
          resolve(received.slice(0, end));
        }
      });
      socket.once('error', reject);
    });
  }

  let broker: PrivateBroker | undefined;

  afterEach(async () => {
    await broker?.stop();
    broker = undefined;
  });

  it('starts a private redis, stops it (connection refused) and restarts it on the same port', async () => {
    broker = await startPrivateRedis();
    const { port } = broker;
    expect(SHARED_PORTS).not.toContain(port);
    expect(broker.url).toBe(`redis://127.0.0.1:${port}`);
    expect(await ping(broker.url)).toBe('PONG');

    await broker.stop();
    expect(await isPortOpen(port)).toBe(false);
    expect(await connectError(port)).toBe('ECONNREFUSED');

    await broker.start();
    expect(await ping(broker.url)).toBe('PONG');

    const pidBefore = broker.pid;
    await broker.restart();
    expect(broker.port).toBe(port);
    expect(broker.pid).not.toBe(pidBefore);
    expect(await ping(broker.url)).toBe('PONG');
  });

  it('starts and stops a private mosquitto', async () => {
    broker = await startPrivateMosquitto();
    expect(SHARED_PORTS).not.toContain(broker.port);
    expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
    // CONNACK, remaining length 2, no session present, return code 0 (accepted).
    expect([...(await mqttConnect(broker.port))]).toEqual([0x20, 0x02, 0x00, 0x00]);

    await broker.stop();
    expect(await isPortOpen(broker.port)).toBe(false);
  });

  it('keeps Redis data across a restart when persistent', async () => {
    broker = await startPrivateRedis({ persistent: true });
    const client = new Redis(broker.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    await client.connect();
    await client.rpush('q', 'a', 'b');
    client.disconnect();

    await broker.restart();

    const again = new Redis(broker.url, { lazyConnect: true });
    await again.connect();
    expect(await again.lrange('q', 0, -1)).toEqual(['a', 'b']);
    again.disconnect();
  });

  it('keeps retained MQTT messages across a restart when persistent', async () => {
    broker = await startPrivateMosquitto({ persistent: true });
    const publisher = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    await publisher.publishAsync('support/retained', 'kept', { qos: 1, retain: true });
    await publisher.endAsync();

    await broker.restart();

    const subscriber = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    try {
      const message = new Promise<string>((resolve) =>
        subscriber.once('message', (_topic, payload) => resolve(payload.toString())),
      );
      await subscriber.subscribeAsync('support/retained', { qos: 1 });
      expect(await within(5_000, message)).toBe('kept');
    } finally {
      await subscriber.endAsync(true);
    }
  });

  it('starts a private nats with JetStream and restarts it on the same port', async () => {
    broker = await startPrivateNats();
    expect(SHARED_PORTS).not.toContain(broker.port);
    const info = JSON.parse((await firstLine(broker.port)).replace(/^INFO /, '')) as Record<string, unknown>;
    expect(info).toEqual(expect.objectContaining({ port: broker.port, jetstream: true }));

    await broker.restart();
    expect(await firstLine(broker.port)).toMatch(/^INFO /);
  });
});

describe('TelegramSender', () => {
  interface Received {
    updateId: number;
    body: Buffer;
    headers: IncomingMessage['headers'];
    at: number;
  }

  /** A webhook on loopback; `answer` decides per request, given how often this update_id was seen. */
  async function startWebhook(
    answer: (received: Received, attempt: number, res: ServerResponse) => void,
  ): Promise<{ url: string; received: Received[]; maxConcurrent: () => number; close: () => Promise<void> }> {
    const received: Received[] = [];
    const seen = new Map<number, number>();
    let active = 0;
    let maxConcurrent = 0;
    const server = createServer((req, res) => {
      active += 1;
      maxConcurrent = Math.max(maxConcurrent, active);
      res.on('close', () => (active -= 1));
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const updateId = (JSON.parse(body.toString('utf8')) as { update_id: number }).update_id;
        const attempt = (seen.get(updateId) ?? 0) + 1;
        seen.set(updateId, attempt);
        const entry = { updateId, body, headers: req.headers, at: Date.now() };
        received.push(entry);
        answer(entry, attempt, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}/telegram/webhook`,
      received,
      maxConcurrent: () => maxConcurrent,
      close: async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
      },
    };
  }

  it('resends each update after 503 + Retry-After: 0 until acked, within the connection limit', async () => {
    const webhook = await startWebhook((_received, attempt, res) => {
      // A little latency so concurrent requests overlap.
      setTimeout(() => {
        if (attempt <= 2) res.writeHead(503, { 'Retry-After': '0' }).end();
        else res.writeHead(200).end();
      }, 5);
    });
    const sender = new TelegramSender({ url: webhook.url, secret: 'Secret_token-123', connections: 8 });
    const updates = Array.from({ length: 40 }, (_, i) => realisticUpdate(1_000 + i));

    try {
      const result = await sender.send(updates);

      expect(result.failed).toEqual([]);
      expect(result.acked.size).toBe(40);
      expect([...result.acked.values()].every((attempts) => attempts === 3)).toBe(true);
      expect(result.attempts).toBe(120);
      expect(result.statusCounts).toEqual({ 200: 40, 503: 80 });
      expect(sender.answered).toEqual(result.statusCounts);
      expect(webhook.maxConcurrent()).toBeLessThanOrEqual(8);
      expect(webhook.maxConcurrent()).toBeGreaterThan(1);
      const first = webhook.received.find((r) => r.updateId === 1_000);
      expect(first?.headers['x-telegram-bot-api-secret-token']).toBe('Secret_token-123');
      expect(first?.headers['content-type']).toBe('application/json');
      expect(first?.body.toString('utf8')).toBe(JSON.stringify(updates[0]));
    } finally {
      await sender.close();
      await webhook.close();
    }
  });

  it('backs off, honours Retry-After up to the cap, and gives up on an update at the deadline', async () => {
    const webhook = await startWebhook((received, attempt, res) => {
      if (received.updateId === 999) res.writeHead(500).end();
      else if (received.updateId === 5 && attempt === 1) res.writeHead(429, { 'Retry-After': '1' }).end();
      else res.writeHead(200).end();
    });
    const sender = new TelegramSender({ url: webhook.url, maxBackoffMs: 300, deadlineMs: 2_000 });

    try {
      const started = Date.now();
      const result = await sender.send([realisticUpdate(999), realisticUpdate(1), realisticUpdate(5)]);
      const elapsed = Date.now() - started;

      expect(result.failed).toEqual([999]);
      expect(result.acked).toEqual(
        new Map([
          [1, 1],
          [5, 2],
        ]),
      );
      // Given up only once the deadline has passed; a busy machine may take longer, never less.
      expect(elapsed).toBeGreaterThanOrEqual(1_700);

      // The waits chosen: first retry at once, then 1 s capped to 300 ms; Retry-After: 1 capped to 300 ms.
      const waits999 = result.waits.get(999) ?? [];
      expect(waits999[0]).toBe(0);
      expect(waits999.length).toBeGreaterThanOrEqual(2);
      expect(waits999.slice(1)).toEqual(waits999.slice(1).map(() => 300));
      expect(result.waits.get(5)).toEqual([300]);
      expect(result.waits.has(1)).toBe(false);
      const times = (id: number): number[] =>
        webhook.received.filter((r) => r.updateId === id).map((r) => r.at);
      expect(times(999)).toHaveLength(waits999.length + 1);
      expect(result.statusCounts[500]).toBe(times(999).length);
      // Timers never fire early, so the measured gaps are at least the waits (less a clock tick).
      const [, a2 = 0, a3 = 0] = times(999);
      expect(a3 - a2).toBeGreaterThanOrEqual(280);
      const [b1 = 0, b2 = 0] = times(5);
      expect(b2 - b1).toBeGreaterThanOrEqual(280);
    } finally {
      await sender.close();
      await webhook.close();
    }
  });

  it('retries after a timeout or a reset connection, counts duplicates and sends strings byte for byte', async () => {
    const exact = '{"update_id":10,  "message":{"text":"exact  bytes ✓"}}';
    const webhook = await startWebhook((received, attempt, res) => {
      if (received.updateId === 7 && attempt === 1) return; // never answers: the sender times out
      if (received.updateId === 8 && attempt === 1) {
        res.socket?.resetAndDestroy();
        return;
      }
      res.writeHead(204).end();
    });
    const sender = new TelegramSender({ url: webhook.url, requestTimeoutMs: 300, maxBackoffMs: 100 });

    try {
      const result = await sender.send([
        realisticUpdate(7),
        realisticUpdate(8),
        realisticUpdate(9),
        realisticUpdate(9),
        exact,
      ]);

      expect(result.failed).toEqual([]);
      expect(result.acked).toEqual(
        new Map([
          [7, 2],
          [8, 2],
          [9, 1],
          [10, 1],
        ]),
      );
      expect(result.statusCounts).toEqual({ 204: 5, error: 2 });
      expect(result.attempts).toBe(7);
      expect(webhook.received.filter((r) => r.updateId === 9)).toHaveLength(2);
      expect(webhook.received.find((r) => r.updateId === 10)?.body.equals(Buffer.from(exact, 'utf8'))).toBe(
        true,
      );
    } finally {
      await sender.close();
      await webhook.close();
    }
  });
});

describe('waitUntil and waitForPort', () => {
  it('waitUntil resolves once the predicate holds, and says what did not happen in time', async () => {
    let calls = 0;
    await waitUntil(() => ++calls === 3, 5_000, 1);
    expect(calls).toBe(3);
    await expect(waitUntil(() => false, 50, 5)).rejects.toThrow(/^condition not met within 50 ms$/);
    await expect(waitUntil(() => Promise.resolve(false), 50, 5, 'queue drained')).rejects.toThrow(
      /^queue drained within 50 ms$/,
    );
  });

  it("waitUntil ends at once with the predicate's own error", async () => {
    const started = Date.now();
    await expect(
      waitUntil(
        () => {
          throw new Error('broker exited');
        },
        10_000,
        5,
      ),
    ).rejects.toThrow(/^broker exited$/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('waitForPort resolves once the port listens, and names a port that never does', async () => {
    const port = await freePort();
    await expect(waitForPort(port, 300)).rejects.toThrow(
      new RegExp(`^port ${port} did not accept connections within 300 ms$`),
    );
    const server = createServer();
    const waiting = waitForPort(port, 10_000);
    server.listen(port, '127.0.0.1');
    try {
      await waiting;
    } finally {
      server.close();
    }
  });
});
