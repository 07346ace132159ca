/**
 * The webhook edge against a hostile or broken client: decided on headers alone, time limits on
 * every connection, a cap on connections, client errors answered as client errors, strict input.
 */
import { Controller, Module, Post, Body } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { hookEnv, startApp, type TestApp } from './support/app.js';
import { FakeBotApi } from './support/fake-bot-api.js';
import { head, openRaw } from './support/raw-http.js';
import { waitUntil } from './support/wait.js';

const TOKEN = '161616:AAH_edge-bot-token';
const SECRET = 'edge_secret';
const REDIS_URL = 'redis://127.0.0.1:6379';

/** A team's own route beside the webhook: it must keep Nest's JSON body parsing. */
@Controller('team')
class EchoController {
  @Post('echo')
  echo(@Body() body: unknown): unknown {
    return { received: body };
  }
}

@Module({ controllers: [EchoController] })
class TeamModule {}

describe('webhook edge', () => {
  let api: FakeBotApi;
  let redis: Redis;
  let sut: TestApp;
  let queue: string;
  let port: number;

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [{ token: TOKEN, id: 161616, username: 'edge_bot' }] });
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await api.close();
    redis.disconnect();
  });

  async function start(extra: Record<string, string> = {}): Promise<void> {
    queue = `test:edge:${randomUUID()}`;
    sut = await startApp(
      {
        ...hookEnv(api.url, TOKEN, SECRET),
        REDIS_URL,
        REDIS_QUEUE_NAME: queue,
        ...extra,
      },
      { listen: true, imports: [TeamModule] },
    );
    port = Number(new URL(sut.url).port);
  }

  afterEach(async () => {
    await sut.close();
    await redis.del(queue);
  });

  const update = (id: number): string => JSON.stringify({ update_id: id, message: { text: 'hi' } });
  const authorised = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET };
  const rejected = async (reason: string): Promise<number> => {
    const metrics = await (await fetch(`${sut.url}/metrics`)).text();
    const line = metrics
      .split('\n')
      .find(
        (l) => l.startsWith('telegram_receiver_updates_rejected_total{') && l.includes(`reason="${reason}"`),
      );
    return line ? Number(line.split(' ').pop()) : 0;
  };

  it('refuses on the headers alone, before reading the body, and closes the connection', async () => {
    await start({ WEBHOOK_LIMIT_SUBNETS: '10.0.0.0/8,127.0.0.1/32' });
    const cases = [
      { path: '/nowhere', headers: authorised, status: 404 },
      { path: '/hook', headers: { 'content-type': 'application/json' }, status: 401 },
      { path: '/hook', headers: { ...authorised, 'x-telegram-bot-api-secret-token': 'wrong' }, status: 401 },
    ];
    for (const { path, headers, status } of cases) {
      const connection = openRaw(port);
      // A large body announced, and none of it sent: the answer must not wait for it.
      await connection.send(head(path, { ...headers, 'content-length': 1_000_000 }));
      expect(await connection.status).toBe(status);
      expect(await connection.closed).toMatch(/\r\nconnection: close\r\n/i);
    }
    expect(await rejected('unknown_path')).toBe(1);
    expect(await rejected('secret')).toBe(2);
  });

  it('refuses a client outside WEBHOOK_LIMIT_SUBNETS before reading its body', async () => {
    await start({ WEBHOOK_LIMIT_SUBNETS: '10.0.0.0/8' });
    const connection = openRaw(port);
    await connection.send(head('/hook', { ...authorised, 'content-length': 1_000_000 }));
    expect(await connection.status).toBe(403);
    await connection.closed;
    expect(await rejected('subnet')).toBe(1);
  });

  it('answers 413 to an announced length over 1 MiB before the body, and to a longer chunked body as it passes 1 MiB', async () => {
    await start();
    const announced = openRaw(port);
    await announced.send(head('/hook', { ...authorised, 'content-length': 9 * 1024 * 1024 }));
    expect(await announced.status).toBe(413);
    expect(await announced.closed).toContain('body exceeds 1 MiB');

    const chunked = openRaw(port);
    await chunked.send(head('/hook', { ...authorised, 'transfer-encoding': 'chunked' }));
    const chunk = Buffer.concat([
      Buffer.from(`${(64 * 1024).toString(16)}\r\n`),
      Buffer.alloc(64 * 1024, 0x20),
      Buffer.from('\r\n'),
    ]);
    // 1 MiB and a bit, then the connection stays open: the 413 must come without the rest.
    for (let i = 0; i < 17; i++) await chunked.send(chunk);
    expect(await chunked.status).toBe(413);
    await chunked.closed;
    expect(await rejected('too_large')).toBe(2);
    expect(await redis.llen(queue)).toBe(0);
  });

  it('answers 408 and closes a connection whose headers or body stall, and counts it', async () => {
    await start({ WEBHOOK_HEADERS_TIMEOUT_MS: '500', WEBHOOK_BODY_TIMEOUT_MS: '1000' });
    const stalledHeaders = openRaw(port);
    await stalledHeaders.send('POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const stalledBody = openRaw(port);
    await stalledBody.send(head('/hook', { ...authorised, 'content-length': 1000 }) + '{"update_id":');
    expect(await stalledHeaders.status).toBe(408);
    expect(await stalledBody.status).toBe(408);
    await Promise.all([stalledHeaders.closed, stalledBody.closed]);
    await waitUntil(async () => (await rejected('timeout')) === 2);
    // The service goes on: the next update is taken at once.
    const response = await fetch(`${sut.url}/hook`, { method: 'POST', headers: authorised, body: update(1) });
    expect(response.status).toBe(200);
  });

  it('closes an idle connection after WEBHOOK_KEEPALIVE_TIMEOUT_MS, before or between requests', async () => {
    // A connection is never closed for silence while an update waits for its broker, so
    // silence before the first request is bounded by PUBLISH_TIMEOUT_MS too.
    await start({ WEBHOOK_KEEPALIVE_TIMEOUT_MS: '300', PUBLISH_TIMEOUT_MS: '300' });
    const silent = openRaw(port);
    const between = openRaw(port);
    await between.send(head('/hook', { ...authorised, 'content-length': update(2).length }) + update(2));
    expect(await between.status).toBe(200);
    // Both closed by the server: neither sends another byte.
    await Promise.all([silent.closed, between.closed]);
    expect(await redis.llen(queue)).toBe(1);
  });

  it('refuses connections beyond WEBHOOK_MAX_SOCKETS, and takes new ones once others close', async () => {
    await start({ WEBHOOK_MAX_SOCKETS: '3' });
    const held = [openRaw(port), openRaw(port), openRaw(port)];
    // A request on each proves the server accepted all three.
    for (const [i, connection] of held.entries()) {
      await connection.send(
        head('/hook', { ...authorised, 'content-length': update(10 + i).length }) + update(10 + i),
      );
      expect(await connection.status).toBe(200);
    }
    const refused = openRaw(port);
    expect(await refused.closed).toBe('');
    held[0]?.socket.destroy();
    await held[0]?.closed;
    await waitUntil(async () => {
      const response = await fetch(`${sut.url}/hook`, {
        method: 'POST',
        headers: { ...authorised, connection: 'close' },
        body: update(20),
      }).catch(() => undefined);
      return response?.status === 200;
    });
    for (const connection of held) connection.socket.destroy();
  });

  it('counts a request whose client went away mid-body as aborted, and publishes nothing', async () => {
    await start();
    const connection = openRaw(port);
    await connection.send(head('/hook', { ...authorised, 'content-length': 1000 }) + '{"update_id":5,');
    await waitUntil(() => connection.socket.bytesWritten > 0);
    connection.socket.destroy();
    await waitUntil(async () => (await rejected('aborted')) === 1);
    expect(await redis.llen(queue)).toBe(0);
  });

  it.each([
    [
      'invalid UTF-8',
      Buffer.from([...Buffer.from('{"update_id":1,"message":{"text":"'), 0xff, ...Buffer.from('"}}')]),
      'body is not valid UTF-8',
    ],
    [
      'update_id written 123e3',
      Buffer.from('{"update_id":123e3,"message":{}}'),
      'update_id must be written as an integer, such as 123 (not 1.0 or 1e3)',
    ],
    [
      'update_id written 123.0',
      Buffer.from('{"update_id":123.0,"message":{}}'),
      'update_id must be written as an integer, such as 123 (not 1.0 or 1e3)',
    ],
    [
      'a kind that is an MQTT wildcard',
      Buffer.from('{"update_id":1,"a/#":{}}'),
      'update kind must be a name of a-z, 0-9 and _ that starts with a letter, at most 64 characters',
    ],
  ])('answers 400 to %s and publishes nothing', async (_name, body, message) => {
    await start();
    const response = await fetch(`${sut.url}/hook`, { method: 'POST', headers: authorised, body });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ statusCode: 400, error: 'Bad Request', message });
    expect(await redis.llen(queue)).toBe(0);
  });

  it("leaves a team's own routes their JSON body parsing", async () => {
    await start();
    const response = await fetch(`${sut.url}/team/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hello: 'world' }),
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ received: { hello: 'world' } });
  });
});
