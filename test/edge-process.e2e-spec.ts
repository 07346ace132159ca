/**
 * The built service (`node dist/main.js`) under a hostile client's load: memory it can be made to
 * hold, the log it can be made to write, and no ERROR line for anything a client does.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { Redis } from 'ioredis';
import { freePort } from './support/brokers.js';
import { FakeBotApi } from './support/fake-bot-api.js';
import { head, openRaw } from './support/raw-http.js';
import { ReceiverProcess } from './support/receiver-process.js';
import { waitUntil } from './support/wait.js';
import { hookEnv } from './support/app.js';

const TOKEN = '171717:AAH_edge-process-bot-token';
const SECRET = 'edge_process_secret';
const REDIS_URL = 'redis://127.0.0.1:6379';
/** Requests from the test pass the subnet check when they claim to come from 10.x through the trusted proxy. */
const INSIDE = { 'x-forwarded-for': '10.1.2.3' };
const OUTSIDE = { 'x-forwarded-for': '203.0.113.7' };

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
}

/** Runs `count` tasks, `concurrency` at a time. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

describe('node dist/main.js at the edge', () => {
  let api: FakeBotApi;
  let redis: Redis;
  let sut: ReceiverProcess;
  let port: number;
  let queue: string;

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [{ token: TOKEN, id: 171717, username: 'edge_process_bot' }] });
    redis = new Redis(REDIS_URL);
    port = await freePort();
    queue = `test:edge-process:${randomUUID()}`;
    sut = await ReceiverProcess.start({
      ...hookEnv(api.url, TOKEN, SECRET),
      WEBHOOK_PORT: String(port),
      WEBHOOK_BIND: '127.0.0.1',
      WEBHOOK_LIMIT_SUBNETS: '10.0.0.0/8',
      WEBHOOK_TRUSTED_PROXIES: '127.0.0.1/32',
      WEBHOOK_HEADERS_TIMEOUT_MS: '1000',
      WEBHOOK_BODY_TIMEOUT_MS: '1500',
      REDIS_URL,
      REDIS_QUEUE_NAME: queue,
      LOG_LEVEL: 'debug',
    });
  });
  afterAll(async () => {
    await sut.stop();
    await api.close();
    await redis.del(queue);
    redis.disconnect();
  });

  const readMetrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const rejectedCount = (metrics: string, reason: string): number =>
    Number(
      new RegExp(`updates_rejected_total\\{bot="[0-9]*",reason="${reason}"\\} (\\d+)`).exec(metrics)?.[1] ??
        0,
    );
  const body = (id: number): string => JSON.stringify({ update_id: id, message: { text: 'hello' } });
  const authorised = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET };

  it('holds no memory for 200 stalled unauthenticated connections announcing 1 MB bodies, and closes each', async () => {
    const trickle = Buffer.alloc(960 * 1024, 0x20);
    const attack = async (): Promise<string[]> => {
      const connections = Array.from({ length: 200 }, () => openRaw(port));
      await Promise.all(
        connections.map(async (connection, i) => {
          // Outside the subnet, on an unknown path or without a secret: each refused on its headers.
          const path = i % 3 === 0 ? '/nowhere' : '/hook';
          const headers = i % 3 === 1 ? { ...authorised, ...OUTSIDE } : { ...INSIDE };
          await connection.send(head(path, { ...headers, 'content-length': 1_000_000 }));
          await connection.send(trickle);
        }),
      );
      return Promise.all(connections.map((c) => c.closed));
    };
    // A first round grows the young generation and warms the code the attack takes; what the
    // second adds is what such connections hold.
    await attack();
    const before = rssBytes(sut.pid as number);
    const answers = await attack();
    const after = rssBytes(sut.pid as number);
    // Every one closed by the server. The answer is written before the close, but a client still
    // sending may get a reset instead of reading it: check the status of those that read one.
    const expected = (i: number): string => (i % 3 === 0 ? '404' : i % 3 === 1 ? '403' : '401');
    const statuses = answers.map((a) => /^HTTP\/1\.1 (\d{3})/.exec(a)?.[1]);
    statuses.forEach((status, i) => expect([undefined, expected(i)]).toContain(status));
    expect(statuses.filter((status) => status !== undefined).length).toBeGreaterThan(0);
    // Buffered, the 200 trickles would hold ~190 MB at once; what the service keeps is far below a
    // quarter of that. (On a quiet machine it grows by a few MB; with both cores busy, by up to ~20
    // MB, which the collector has not yet returned: a bound at 10 MB failed there.)
    expect(after - before).toBeLessThanOrEqual((200 * trickle.length) / 4);
  });

  it('closes 50 stalled authenticated bodies by the body timeout with 408, and takes updates meanwhile', async () => {
    const stalled = Array.from({ length: 50 }, () => openRaw(port));
    await Promise.all(
      stalled.map(async (connection) => {
        await connection.send(head('/hook', { ...authorised, ...INSIDE, 'content-length': 1_000_000 }));
        await connection.send(Buffer.alloc(512 * 1024, 0x20));
      }),
    );
    const response = await fetch(`http://127.0.0.1:${port}/hook`, {
      method: 'POST',
      headers: { ...authorised, ...INSIDE },
      body: body(1),
    });
    expect(response.status).toBe(200);
    expect(await Promise.all(stalled.map((c) => c.status))).toEqual(Array<number>(50).fill(408));
    await Promise.all(stalled.map((c) => c.closed));
  });

  it('writes a bounded number of log lines for 20,000 requests with a wrong secret, and no ERROR for aborts', async () => {
    const linesBefore = sut.logs.split('\n').length;
    const secretBefore = rejectedCount(await readMetrics(), 'secret');
    const started = Date.now();
    await pool(20_000, 32, async () => {
      await new Promise<void>((resolve, reject) => {
        const call = request(
          {
            port,
            host: '127.0.0.1',
            method: 'POST',
            path: '/hook',
            headers: { ...INSIDE, 'x-telegram-bot-api-secret-token': 'wrong', 'content-length': 2 },
          },
          (response) => {
            expect(response.statusCode).toBe(401);
            response.resume().on('end', resolve);
          },
        );
        call.on('error', reject);
        call.end('{}');
      });
    });
    // Clients that give up mid-body: counted, at debug, never an ERROR line with a stack.
    for (let i = 0; i < 20; i++) {
      const connection = openRaw(port);
      await connection.send(
        head('/hook', { ...authorised, ...INSIDE, 'content-length': 100 }) + '{"update_id":',
      );
      connection.socket.destroy();
    }
    console.log(`20,000 rejected requests took ${Date.now() - started} ms`);
    await waitUntil(async () => rejectedCount(await readMetrics(), 'aborted') === 20);
    const metrics = await readMetrics();
    expect(rejectedCount(metrics, 'secret') - secretBefore).toBe(20_000);
    expect(rejectedCount(metrics, 'bad_request')).toBe(0);
    const lines = sut.logs.split('\n').slice(linesBefore);
    const rejections = lines.filter((line) => line.includes('Rejected a webhook request'));
    // A few per 10 s window, whatever the rate; every one still counted in metrics.
    expect(rejections.length).toBeGreaterThan(0);
    expect(rejections.length).toBeLessThanOrEqual(5 * 6);
    expect(sut.logs).not.toMatch(/"level":(50|60)/);
  });
});
