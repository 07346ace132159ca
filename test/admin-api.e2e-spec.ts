import { randomUUID } from 'node:crypto';
import { startApp, type TestApp } from './support/app.js';
import { freePort } from './support/brokers.js';
import { FakeBotApi } from './support/fake-bot-api.js';
import { OPENAPI_DOCUMENT } from '../src/admin/api/openapi.js';

const FILE_BOT = { token: '730001:AAH_admin-file-bot', id: 730001, username: 'file_bot' };
const NEW_BOT = { token: '730002:AAH_admin-new-bot-token', id: 730002, username: 'new_bot' };
/** A JSON answer, read loosely: the assertions say what it must hold. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests index answers freely
type Answer = any;

const ADMIN_TOKEN = 'a'.repeat(20) + 'admin_token_for_tests';

describe('admin API (ADMIN_PORT)', () => {
  let api: FakeBotApi;
  let sut: TestApp;
  let admin: string;

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [FILE_BOT, NEW_BOT] });
    const port = await freePort();
    admin = `http://127.0.0.1:${port}`;
    sut = await startApp(
      {
        TELEGRAM_TOKEN: FILE_BOT.token,
        TELEGRAM_API_URL: api.url,
        WEBHOOK_DOMAIN: 'admin.example.com',
        REDIS_URL: 'redis://127.0.0.1:6379',
        REDIS_QUEUE_NAME: `test:admin:${randomUUID()}`,
        ADMIN_PORT: String(port),
        ADMIN_TOKEN,
      },
      { listen: true },
    );
  });
  afterAll(async () => {
    await sut.close();
    await api.close();
  });

  /** A request to the admin listener; `token` false sends no Authorization header. */
  async function call(
    method: string,
    path: string,
    body?: unknown,
    token: string | false = ADMIN_TOKEN,
    base = admin,
  ): Promise<{ status: number; body: Answer; text: string }> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token === false ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, text, body: text ? JSON.parse(text) : undefined };
  }

  const deliver = async (path: string, secret: string, base = sut.url): Promise<number> => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
      body: JSON.stringify({ update_id: 1, message: { message_id: 1, text: 'hi' } }),
    });
    await response.arrayBuffer();
    return response.status;
  };

  it('401 without the bearer token or with a wrong one; the admin routes are 404 on the webhook port', async () => {
    expect(await call('GET', '/bots', undefined, false)).toMatchObject({
      status: 401,
      body: {
        statusCode: 401,
        error: 'Unauthorized',
        message: 'missing or wrong bearer token (ADMIN_TOKEN)',
      },
    });
    expect((await call('GET', '/bots', undefined, `${ADMIN_TOKEN}x`)).status).toBe(401);
    expect((await call('GET', '/bots', undefined, ADMIN_TOKEN.slice(0, -1))).status).toBe(401);
    expect((await call('GET', '/bots', undefined, ADMIN_TOKEN, sut.url)).status).toBe(404);
    expect((await call('POST', '/bots', { token: NEW_BOT.token }, ADMIN_TOKEN, sut.url)).status).toBe(404);
    expect(api.calls('getMe', NEW_BOT.token)).toHaveLength(0);
  });

  it('a token the Bot API rejects is 422 and nothing is stored', async () => {
    const answer = await call('POST', '/bots', { token: '730099:AAH_revoked-token' });
    expect(answer).toMatchObject({ status: 422, body: { statusCode: 422, error: 'Unprocessable Entity' } });
    expect(answer.body.message).toContain('the Bot API rejected the token');
    expect(answer.text).not.toContain('AAH_revoked-token');
    expect((await call('GET', '/bots')).body.total).toBe(1);
    expect(api.calls('setWebhook', '730099:AAH_revoked-token')).toHaveLength(0);
  });

  it('validation as strict as BOTS_FILE, naming the field: 400', async () => {
    const routes = await call('POST', '/bots', { token: NEW_BOT.token, routes: { redis: 42 } });
    expect(routes).toMatchObject({ status: 400, body: { statusCode: 400, error: 'Bad Request' } });
    expect(routes.body.message).toContain('request: routes.redis must be a list of update kinds');
    const target = await call('POST', '/bots', { token: NEW_BOT.token, routes: { amqp: 'all' } });
    expect(target.body.message).toContain('routes names target(s) amqp that are not in use');
    const endpoint = await call('POST', '/bots', { token: NEW_BOT.token, endpoint: 'a/../b' });
    expect(endpoint.body.message).toContain('request: endpoint must be hash, random, token or a URL path');
    const unknown = await call('POST', '/bots', { token: NEW_BOT.token, colour: 'red' });
    expect(unknown).toMatchObject({ status: 400, body: { message: 'property colour should not exist' } });
    const token = await call('POST', '/bots', { token: 'not a token' });
    expect(token.body.message).toContain('request: token is missing or does not look like a bot token');
    expect(api.calls('getMe', NEW_BOT.token)).toHaveLength(0);
  });

  it('adds, lists, changes and removes a bot; never shows its token or secret', async () => {
    const created = await call('POST', '/bots', {
      token: NEW_BOT.token,
      endpoint: 'new',
      secret: 'new_bot_webhook_secret',
      allowed_updates: ['message'],
    });
    expect(created).toMatchObject({
      status: 201,
      body: { id: NEW_BOT.id, username: NEW_BOT.username, webhook_url: 'https://admin.example.com/new' },
    });
    expect(api.calls('setWebhook', NEW_BOT.token)[0]?.params).toMatchObject({
      url: 'https://admin.example.com/new',
      secret_token: 'new_bot_webhook_secret',
    });
    expect(await deliver('/new', 'new_bot_webhook_secret')).toBe(200);
    // The webhook route refuses the admin port.
    expect(await deliver('/new', 'new_bot_webhook_secret', admin)).toBe(404);

    expect((await call('POST', '/bots', { token: NEW_BOT.token })).status).toBe(409);

    const page = await call('GET', '/bots?offset=1&limit=1');
    expect(page.body).toMatchObject({
      total: 2,
      offset: 1,
      limit: 1,
      bots: [{ id: NEW_BOT.id, source: 'admin API' }],
    });
    const one = await call('GET', `/bots/${NEW_BOT.id}`);
    expect(one.body).toMatchObject({
      endpoint: '/new',
      allowed_updates: ['message'],
      webhook: { registered: true },
    });
    expect((await call('GET', '/bots/1')).status).toBe(404);

    const changed = await call('PATCH', `/bots/${NEW_BOT.id}`, {
      endpoint: 'renamed',
      routes: { redis: ['message'] },
    });
    expect(changed).toMatchObject({
      status: 200,
      body: { endpoint: '/renamed', routes: { redis: ['message'] } },
    });
    expect(await deliver('/new', 'new_bot_webhook_secret')).toBe(404);
    expect(await deliver('/renamed', 'new_bot_webhook_secret')).toBe(200);
    expect(api.calls('setWebhook', NEW_BOT.token).at(-1)?.params).toMatchObject({
      url: 'https://admin.example.com/renamed',
    });

    // A bot of the configuration is changed where it is written.
    expect((await call('DELETE', `/bots/${FILE_BOT.id}`)).status).toBe(409);
    expect((await call('PATCH', `/bots/${FILE_BOT.id}`, { endpoint: 'x' })).status).toBe(409);

    const removed = await call('DELETE', `/bots/${NEW_BOT.id}?drop_pending=false`);
    expect(removed.status).toBe(204);
    expect(await deliver('/renamed', 'new_bot_webhook_secret')).toBe(404);
    expect(api.calls('deleteWebhook', NEW_BOT.token)).toHaveLength(1);
    expect(api.calls('deleteWebhook', NEW_BOT.token)[0]?.params).toMatchObject({
      drop_pending_updates: false,
    });
    expect((await call('GET', '/bots')).body.total).toBe(1);

    for (const text of [created.text, page.text, one.text, changed.text]) {
      expect(text).not.toContain(NEW_BOT.token.split(':')[1]);
      expect(text).not.toContain('new_bot_webhook_secret');
    }
    const list = await call('GET', '/bots');
    expect(list.text).not.toContain(FILE_BOT.token.split(':')[1]);
  });

  it('serves its OpenAPI description, which names every route the controllers have', async () => {
    const answer = await call('GET', '/openapi.json', undefined, false);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)));
    const described = Object.entries(OPENAPI_DOCUMENT.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path.replace('{id}', ':id')}`),
    );
    const routes = sut.app.getHttpAdapter().getInstance().printRoutes({ commonPrefix: false });
    for (const route of described) {
      const [method, path] = route.split(' ') as [string, string];
      expect(routes).toContain(path.slice(1).split('/').pop());
      expect(routes).toContain(method);
    }
    expect(described.sort()).toEqual(
      [
        'DELETE /bots/:id',
        'GET /bots',
        'GET /bots/:id',
        'GET /openapi.json',
        'PATCH /bots/:id',
        'POST /bots',
      ].sort(),
    );
    expect((await call('GET', '/openapi.json', undefined, false, sut.url)).status).toBe(404);
  });
});
