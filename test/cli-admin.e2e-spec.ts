import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { freePort, waitForPort } from './support/brokers.js';
import { FakeBotApi } from './support/fake-bot-api.js';
import { ReceiverProcess } from './support/receiver-process.js';
import { waitUntil } from './support/wait.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

const FILE_BOT = { token: '740001:AAH_cli-admin-file-bot-token', id: 740001, username: 'cli_file_bot' };
const NEW_BOT = { token: '740002:AAH_cli-admin-new-bot-token_xyz', id: 740002, username: 'cli_new_bot' };
/** Looks like a token, unknown to the fake Bot API: getMe answers 401. */
const REVOKED = '740099:AAH_cli-admin-revoked-token_abc';
const NEW_SECRET = 'cli_admin_new_bot_webhook_secret';
const ADMIN_TOKEN = 'cli_admin_token_for_tests_0123456789abcdef';
/** What must never be printed by the CLI or logged by the service. */
const SECRETS = [
  ...[FILE_BOT.token, NEW_BOT.token, REVOKED].map((token) => token.split(':')[1] as string),
  NEW_SECRET,
  ADMIN_TOKEN,
];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('CLI: bots add | list | remove through the admin API', () => {
  let api: FakeBotApi;
  let receiver: ReceiverProcess;
  let redis: Redis;
  let dir: string;
  let adminUrl: string;
  let webhookPort: number;
  const queue = `test:cli-admin:${randomUUID()}`;

  /**
   * The built CLI as a child process, with exactly these variables (plus PATH; undefined leaves one
   * out), in an empty directory.
   */
  async function cli(
    args: string[],
    env: Record<string, string | undefined> = {},
    stdin?: string,
  ): Promise<Run> {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: dir,
      env: Object.fromEntries(
        Object.entries({
          PATH: process.env.PATH ?? '',
          ENV_FILE: '/nonexistent/.env',
          ADMIN_URL: adminUrl,
          ADMIN_TOKEN,
          ...env,
        }).filter((entry): entry is [string, string] => entry[1] !== undefined),
      ),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end(stdin);
    const [code] = (await once(child, 'exit')) as [number | null];
    for (const secret of SECRETS) expect(stdout + stderr).not.toContain(secret);
    return { code, stdout, stderr };
  }

  const file = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, `${content}\n`);
    return path;
  };

  const deliver = async (path: string, secret: string, updateId: number): Promise<number> => {
    const response = await fetch(`http://127.0.0.1:${webhookPort}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
      body: JSON.stringify({ update_id: updateId, message: { message_id: 1, text: 'hi' } }),
    });
    await response.arrayBuffer();
    return response.status;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cli-admin-'));
    api = await FakeBotApi.start({ bots: [FILE_BOT, NEW_BOT] });
    redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });
    await redis.connect();
    webhookPort = await freePort();
    const adminPort = await freePort();
    adminUrl = `http://127.0.0.1:${adminPort}`;
    receiver = await ReceiverProcess.start({
      TELEGRAM_TOKEN: FILE_BOT.token,
      TELEGRAM_API_URL: api.url,
      WEBHOOK_DOMAIN: 'cli-admin.example.com',
      WEBHOOK_PORT: String(webhookPort),
      WEBHOOK_BIND: '127.0.0.1',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_QUEUE_NAME: queue,
      ADMIN_PORT: String(adminPort),
      ADMIN_TOKEN,
      // Every line the service can write, so the search for secrets below covers them all.
      LOG_LEVEL: 'trace',
    });
    expect(receiver.running).toBe(true);
    await waitForPort(adminPort);
  }, 40_000);
  afterAll(async () => {
    await receiver?.stop();
    // The queue, its dedup claims ({queue}:dedup:…) and the removal's claim (queue:bots:removal:…).
    const keys = await redis?.keys(`*${queue}*`);
    if (keys && keys.length > 0) await redis.del(...keys);
    redis?.disconnect();
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('bots add: exit 0, the bot is routed at once and its webhook set with its secret', async () => {
    expect(await deliver('/new', NEW_SECRET, 1)).toBe(404);
    const run = await cli([
      'bots',
      'add',
      '--token-file',
      file('new.token', NEW_BOT.token),
      '--secret-file',
      file('new.secret', NEW_SECRET),
      '--endpoint',
      'new',
      '--allowed-updates',
      'message,callback_query',
      '--mqtt-topic',
      'cli/{bot}/{type}',
      '--kafka-topic',
      'cli.{bot}',
      '--route',
      'redis=all',
    ]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const stored = await fetch(`${adminUrl}/bots/${NEW_BOT.id}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(await stored.json()).toMatchObject({ mqtt_topic: 'cli/{bot}/{type}', kafka_topic: 'cli.{bot}' });
    expect(run.stdout).toContain(`✓ added @${NEW_BOT.username}, id ${NEW_BOT.id}`);
    expect(run.stdout).toContain('webhook: https://cli-admin.example.com/new');
    expect(api.calls('setWebhook', NEW_BOT.token)[0]?.params).toMatchObject({
      url: 'https://cli-admin.example.com/new',
      secret_token: NEW_SECRET,
      allowed_updates: ['message', 'callback_query'],
    });
    expect(await deliver('/new', NEW_SECRET, 2)).toBe(200);
    expect((await redis.lrange(queue, 0, -1)).map((item) => JSON.parse(item) as unknown)).toEqual([
      { update_id: 2, message: { message_id: 1, text: 'hi' } },
    ]);

    const twice = await cli(['bots', 'add', '--token-file', join(dir, 'new.token')]);
    expect(twice).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'error: 409 this bot token is already served\n',
    });
  });

  it('bots list: a table with id, username, endpoint, source and webhook state', async () => {
    const run = await cli(['bots', 'list']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+USERNAME\s+ENDPOINT\s+SOURCE\s+WEBHOOK$/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(
      new RegExp(`^${FILE_BOT.id}\\s+@${FILE_BOT.username}\\s+/\\S+\\s+TELEGRAM_TOKEN\\s+registered`),
    );
    expect(lines[2]).toMatch(
      new RegExp(`^${NEW_BOT.id}\\s+@${NEW_BOT.username}\\s+/new\\s+admin API\\s+registered`),
    );
  });

  it('bots remove @username: exit 0, 404 for its path at once, deleteWebhook once; then the API answers 404', async () => {
    const run = await cli(['bots', 'remove', `@${NEW_BOT.username.toUpperCase()}`]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`✓ removed @${NEW_BOT.username}, id ${NEW_BOT.id}`);
    expect(run.stdout).toContain('pending updates kept');
    expect(await deliver('/new', NEW_SECRET, 3)).toBe(404);
    await waitUntil(() => api.calls('deleteWebhook', NEW_BOT.token).length > 0);
    expect(api.calls('deleteWebhook', NEW_BOT.token)).toHaveLength(1);
    expect(api.calls('deleteWebhook', NEW_BOT.token)[0]?.params).toMatchObject({
      drop_pending_updates: false,
    });

    const again = await cli(['bots', 'remove', String(NEW_BOT.id)]);
    expect(again).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `error: 404 no bot ${NEW_BOT.id} is served\n`,
    });
    const byName = await cli(['bots', 'remove', `@${NEW_BOT.username}`]);
    expect(byName).toMatchObject({
      code: 1,
      stderr: `error: no bot the service serves is @${NEW_BOT.username}\n`,
    });
    expect((await cli(['bots', 'list'])).stdout).not.toContain(NEW_BOT.username);
  });

  it('bots remove <id> --drop-pending: deleteWebhook drops the pending updates', async () => {
    const token = file('again.token', NEW_BOT.token);
    expect((await cli(['bots', 'add', '--token-file', token, '--endpoint', 'again'])).code).toBe(0);
    const run = await cli(['bots', 'remove', String(NEW_BOT.id), '--drop-pending']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`✓ removed bot ${NEW_BOT.id}`);
    expect(run.stdout).toContain('pending updates dropped');
    await waitUntil(() => api.calls('deleteWebhook', NEW_BOT.token).length > 1);
    expect(api.calls('deleteWebhook', NEW_BOT.token)[1]?.params).toMatchObject({
      drop_pending_updates: true,
    });
  });

  it('a wrong ADMIN_TOKEN: the 401 message, exit 2', async () => {
    const run = await cli(['bots', 'list'], { ADMIN_TOKEN: `${ADMIN_TOKEN}_wrong` });
    expect(run).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'error: 401 missing or wrong bearer token (ADMIN_TOKEN)\n',
    });
  });

  it('a token the Bot API rejects (given on stdin): the 422 message, exit 1, the token nowhere', async () => {
    const getMes = api.calls('getMe', REVOKED).length;
    const run = await cli(['bots', 'add', '--token-file', '-'], {}, `${REVOKED}\n`);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: 422 the Bot API rejected the token \(getMe: 401 Unauthorized\)\n$/);
    // The token did reach the service (its getMe), and no farther.
    expect(api.calls('getMe', REVOKED)).toHaveLength(getMes + 1);
    expect(api.calls('setWebhook', REVOKED)).toHaveLength(0);
  });

  it('invalid input the API refuses: its 400 message, exit 2', async () => {
    const run = await cli([
      'bots',
      'add',
      '--token-file',
      file('new2.token', NEW_BOT.token),
      '--route',
      'amqp=all',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error: 400 ');
    expect(run.stderr).toContain('routes names target(s) amqp that are not in use');
  });

  it('missing ADMIN_URL or ADMIN_TOKEN: a message naming each, exit 2, nothing sent', async () => {
    const before = api.calls('getMe').length;
    const run = await cli(['bots', 'add', '--token-file', file('new3.token', NEW_BOT.token)], {
      ADMIN_URL: '',
      ADMIN_TOKEN: '',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('ADMIN_URL is required for this command');
    expect(run.stderr).toContain('ADMIN_TOKEN is required for this command');
    const bad = await cli(['bots', 'list'], { ADMIN_URL: 'ftp://127.0.0.1' });
    expect(bad).toMatchObject({ code: 2 });
    expect(bad.stderr).toContain('ADMIN_URL must be a URL starting with http:// or https://');
    expect(api.calls('getMe')).toHaveLength(before);
  });

  it('an unreachable ADMIN_URL: named with its host, exit 1', async () => {
    const closed = await freePort();
    const run = await cli(['bots', 'list'], { ADMIN_URL: `http://127.0.0.1:${closed}` });
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toBe(
      `error: cannot reach the admin API at ADMIN_URL http://127.0.0.1:${closed} (connection refused): ` +
        'is the service running with ADMIN_PORT, and is ADMIN_URL its address?\n',
    );
  });

  it('ADMIN_URL and ADMIN_TOKEN from ENV_FILE, as every other setting', async () => {
    const envFile = file('admin.env', `ADMIN_URL=${adminUrl}\nADMIN_TOKEN=${ADMIN_TOKEN}`);
    const run = await cli(['bots', 'list'], {
      ENV_FILE: envFile,
      ADMIN_URL: undefined,
      ADMIN_TOKEN: undefined,
    });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`@${FILE_BOT.username}`);
  });

  it('ADMIN_URL at the webhook port: its 404, exit 1', async () => {
    const run = await cli(['bots', 'list'], { ADMIN_URL: `http://127.0.0.1:${webhookPort}` });
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toMatch(
      /^error: 404 .* \(GET \/bots is not there: is ADMIN_URL the admin API's address, on ADMIN_PORT, not the webhook port\?\)\n$/,
    );
  });

  it("a server that is not the admin API (a proxy's 502 page): its status alone, exit 1", async () => {
    const proxy = createServer((_request, response) => {
      response.writeHead(502, { 'content-type': 'text/html' }).end('<html>upstream echo: anything</html>');
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    try {
      const { port } = proxy.address() as AddressInfo;
      const run = await cli(['bots', 'list'], { ADMIN_URL: `http://127.0.0.1:${port}/receiver` });
      expect(run).toMatchObject({
        code: 1,
        stdout: '',
        stderr: "error: 502 Bad Gateway (not the admin API's error answer: is ADMIN_URL its address?)\n",
      });
    } finally {
      proxy.close();
    }
  });

  it('bad usage: no --token-file, a bad --route, stdin twice, an empty token file, a token as the bot to remove: exit 2, the value not echoed', async () => {
    const add = await cli(['bots', 'add']);
    expect(add.code).toBe(2);
    expect(add.stderr).toContain("required option '--token-file <file>' not specified");
    const route = await cli([
      'bots',
      'add',
      '--token-file',
      file('new4.token', NEW_BOT.token),
      '--route',
      'redis',
    ]);
    expect(route).toMatchObject({
      code: 2,
      stderr:
        'error: --route redis must be target=kinds, e.g. redis=all or amqp=pre_checkout_query,shipping_query\n',
    });
    const stdin = await cli(['bots', 'add', '--token-file', '-', '--secret-file', '-']);
    expect(stdin).toMatchObject({
      code: 2,
      stderr: 'error: --token-file and --secret-file cannot both be - (stdin)\n',
    });
    const empty = await cli(['bots', 'add', '--token-file', file('empty.token', '')]);
    expect(empty).toMatchObject({
      code: 2,
      stderr: `error: --token-file ${join(dir, 'empty.token')} is empty\n`,
    });
    const remove = await cli(['bots', 'remove', REVOKED]);
    expect(remove).toMatchObject({
      code: 2,
      stderr: 'error: bots remove takes a bot id or @username, not that value\n',
    });
  });

  it("the service's logs of all the above hold no token, webhook secret or ADMIN_TOKEN", () => {
    // The add and the removal above were logged (at trace level, every line the service writes).
    expect(receiver.logs).toContain(`Now serving bot @${NEW_BOT.username}`);
    expect(receiver.logs).toContain(`No longer serving bot @${NEW_BOT.username}`);
    for (const secret of SECRETS) expect(receiver.logs).not.toContain(secret);
  });
});
