/** OPS_PORT: probes and metrics on an internal listener, gone from the public webhook port. */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { hookEnv, startApp, type TestApp } from './support/app.js';
import { freePort } from './support/brokers.js';
import { FakeBotApi } from './support/fake-bot-api.js';

const TOKEN = '191919:AAH_ops-port-bot-token';
const SECRET = 'ops_port_secret';
const REDIS_URL = 'redis://127.0.0.1:6379';

describe('OPS_PORT', () => {
  let api: FakeBotApi;
  let redis: Redis;
  let sut: TestApp;
  let queue: string;
  let opsPort: number;

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [{ token: TOKEN, id: 191919, username: 'ops_port_bot' }] });
    redis = new Redis(REDIS_URL);
    queue = `test:ops-port:${randomUUID()}`;
    opsPort = await freePort();
    sut = await startApp(
      {
        ...hookEnv(api.url, TOKEN, SECRET),
        WEBHOOK_BIND: '127.0.0.1',
        OPS_PORT: String(opsPort),
        REDIS_URL,
        REDIS_QUEUE_NAME: queue,
      },
      { listen: true },
    );
  });
  afterAll(async () => {
    await sut.close();
    await api.close();
    await redis.del(queue);
    redis.disconnect();
  });

  const ops = (path: string): Promise<Response> => fetch(`http://127.0.0.1:${opsPort}${path}`);
  const post = (base: string): Promise<Response> =>
    fetch(`${base}/hook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
      body: JSON.stringify({ update_id: 1, message: { text: 'hi' } }),
    });

  it('serves /status, /status/live and /metrics there', async () => {
    expect((await ops('/status')).status).toBe(200);
    expect((await ops('/status/live')).status).toBe(200);
    const metrics = await ops('/metrics');
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('telegram_receiver_build_info');
  });

  it('answers them 404 on the public webhook port, which takes updates as before', async () => {
    for (const path of ['/status', '/status/live', '/metrics']) {
      expect((await fetch(`${sut.url}${path}`)).status).toBe(404);
    }
    expect((await post(sut.url)).status).toBe(200);
    expect(await redis.llen(queue)).toBe(1);
  });

  it('takes no updates on OPS_PORT', async () => {
    expect((await post(`http://127.0.0.1:${opsPort}`)).status).toBe(404);
    expect(await redis.llen(queue)).toBe(1);
  });
});
