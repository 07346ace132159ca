import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './support/brokers.js';
import { FakeBotApi } from './support/fake-bot-api.js';
import { ReceiverProcess } from './support/receiver-process.js';
import { waitUntil } from './support/wait.js';

/**
 * BOTS_FILE followed while the built service runs: edited in place, swapped as Kubernetes swaps a
 * mounted ConfigMap, reloaded on SIGHUP, and an invalid version refused with the running set kept.
 */
const SHOP = { token: '720001:AAH_reload-shop-token', id: 720001, username: 'reload_shop_bot' };
const HELP = { token: '720002:AAH_reload-help-token', id: 720002, username: 'reload_help_bot' };

const entry = (bot: { token: string }, name: string): string =>
  [`  - token: "${bot.token}"`, `    endpoint: ${name}`, `    secret: ${name}_secret`].join('\n');
const botsYaml = (...entries: string[]): string => ['bots:', ...entries].join('\n') + '\n';

describe('BOTS_FILE hot reload', () => {
  let api: FakeBotApi;
  let redis: Redis;
  let receiver: ReceiverProcess | undefined;
  let port: number;

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [SHOP, HELP] });
    redis = new Redis('redis://127.0.0.1:6379');
  });
  afterEach(async () => {
    await receiver?.stop();
    receiver = undefined;
    api.clearCalls();
  });
  afterAll(async () => {
    await api.close();
    redis.disconnect();
  });

  async function start(botsFile: string): Promise<ReceiverProcess> {
    port = await freePort();
    receiver = await ReceiverProcess.start({
      BOTS_FILE: botsFile,
      TELEGRAM_API_URL: api.url,
      WEBHOOK_DOMAIN: 'reload.example.com',
      WEBHOOK_PORT: String(port),
      WEBHOOK_BIND: '127.0.0.1',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_QUEUE_NAME: `test:reload:${randomUUID()}`,
      LOG_LEVEL: 'info',
    });
    expect(receiver.running).toBe(true);
    return receiver;
  }

  /** The status a Telegram delivery to `/<name>` with its secret gets. */
  async function deliver(name: string, updateId = 1): Promise<number> {
    const response = await fetch(`http://127.0.0.1:${port}/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': `${name}_secret` },
      body: JSON.stringify({ update_id: updateId, message: { message_id: 1, text: 'hi' } }),
    });
    await response.arrayBuffer();
    return response.status;
  }

  it('edited in place: an added bot is registered and receives, a removed one is 404 with its webhook deleted once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reload-'));
    const file = join(dir, 'bots.yaml');
    writeFileSync(file, botsYaml(entry(SHOP, 'shop')));
    const sut = await start(file);
    expect(await deliver('shop')).toBe(200);
    expect(await deliver('help')).toBe(404);

    writeFileSync(file, botsYaml(entry(SHOP, 'shop'), entry(HELP, 'help')));
    await waitUntil(async () => (await deliver('help', 2)) === 200);
    // Routed first, so Telegram's first delivery finds the bot; its webhook is set right after.
    await waitUntil(() => api.calls('setWebhook', HELP.token).length > 0);
    expect(api.calls('setWebhook', HELP.token)[0]?.params).toMatchObject({
      url: 'https://reload.example.com/help',
      secret_token: 'help_secret',
    });

    writeFileSync(file, botsYaml(entry(HELP, 'help')));
    await waitUntil(async () => (await deliver('shop', 3)) === 404);
    await waitUntil(() => api.calls('deleteWebhook', SHOP.token).length > 0);
    expect(await deliver('help', 4)).toBe(200);
    expect(api.calls('deleteWebhook', SHOP.token)).toHaveLength(1);
    expect(api.calls('deleteWebhook', HELP.token)).toHaveLength(0);
    expect(sut.logs).toContain('BOTS_FILE reloaded: 0 added, 1 removed, 0 changed');
  });

  it('a changed bot is set again with its new endpoint and secret; the old path is 404', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reload-'));
    const file = join(dir, 'bots.yaml');
    writeFileSync(file, botsYaml(entry(SHOP, 'shop')));
    await start(file);
    writeFileSync(file, botsYaml(entry(SHOP, 'store')));
    await waitUntil(async () => (await deliver('store')) === 200);
    expect(await deliver('shop', 2)).toBe(404);
    await waitUntil(() =>
      api
        .calls('setWebhook', SHOP.token)
        .some((call) => call.params.url === 'https://reload.example.com/store'),
    );
    expect(api.calls('setWebhook', SHOP.token).at(-1)?.params).toMatchObject({
      url: 'https://reload.example.com/store',
      secret_token: 'store_secret',
    });
    expect(api.calls('deleteWebhook', SHOP.token)).toHaveLength(0);
  });

  it('swapped as Kubernetes swaps a mounted ConfigMap (a new ..data symlink renamed over the old)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reload-k8s-'));
    mkdirSync(join(dir, '..2026_01'));
    writeFileSync(join(dir, '..2026_01', 'bots.yaml'), botsYaml(entry(SHOP, 'shop')));
    symlinkSync('..2026_01', join(dir, '..data'));
    symlinkSync('..data/bots.yaml', join(dir, 'bots.yaml'));
    await start(join(dir, 'bots.yaml'));
    expect(await deliver('help')).toBe(404);

    mkdirSync(join(dir, '..2026_02'));
    writeFileSync(join(dir, '..2026_02', 'bots.yaml'), botsYaml(entry(SHOP, 'shop'), entry(HELP, 'help')));
    symlinkSync('..2026_02', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    await waitUntil(async () => (await deliver('help')) === 200);
    expect(await deliver('shop', 2)).toBe(200);
  });

  it('SIGHUP reloads a file whose change no watch can see (a symlink into a directory not watched)', async () => {
    const real = join(mkdtempSync(join(tmpdir(), 'reload-real-')), 'bots.yaml');
    writeFileSync(real, botsYaml(entry(SHOP, 'shop')));
    const link = join(mkdtempSync(join(tmpdir(), 'reload-link-')), 'bots.yaml');
    symlinkSync(real, link);
    const sut = await start(link);
    writeFileSync(real, botsYaml(entry(SHOP, 'shop'), entry(HELP, 'help')));
    expect(await deliver('help')).toBe(404);
    sut.signal('SIGHUP');
    await waitUntil(() => sut.logs.includes('BOTS_FILE reloaded: 1 added'));
    expect(await deliver('help')).toBe(200);
    expect(sut.running).toBe(true);
  });

  it('an invalid file is refused whole, naming what is wrong; the running set stays', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reload-'));
    const file = join(dir, 'bots.yaml');
    writeFileSync(file, botsYaml(entry(SHOP, 'shop')));
    const sut = await start(file);
    // A valid new bot next to a broken entry: neither change is taken.
    writeFileSync(file, botsYaml(entry(HELP, 'help'), '  - token: not-a-token\n    endpoint: x'));
    await waitUntil(() => sut.logs.includes('BOTS_FILE not reloaded'));
    expect(sut.logs).toContain('BOTS_FILE entry 2: token is missing or does not look like a bot token');
    expect(await deliver('shop')).toBe(200);
    expect(await deliver('help')).toBe(404);
    expect(api.calls('deleteWebhook')).toHaveLength(0);

    // A token the Bot API rejects refuses the file too, and nothing in it is served.
    api.clearCalls();
    writeFileSync(file, botsYaml(entry(HELP, 'help'), entry({ token: '720009:AAH_unknown-bot' }, 'ghost')));
    await waitUntil(
      () => api.calls('getMe').length > 0 && sut.logs.split('BOTS_FILE not reloaded').length === 3,
    );
    expect(sut.logs).toContain('The Bot API rejected the token of the bot from BOTS_FILE entry 2');
    expect(await deliver('shop', 2)).toBe(200);
    expect(await deliver('help', 2)).toBe(404);
    expect(sut.logs).not.toContain('AAH_unknown-bot');
    expect(sut.logs).not.toContain('AAH_reload');
  });
});
