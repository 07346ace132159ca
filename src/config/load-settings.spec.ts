import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError, loadConfig, readEnvironment } from './load-settings.js';

const TOKEN = '123456:AAH-secret_token_value';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigurationError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies defaults and derives a stable endpoint and secret from the token', () => {
    const sut = loadConfig({ TELEGRAM_TOKEN: TOKEN, WEBHOOK_DOMAIN: 'bot.example.com' });
    expect(sut.settings.WEBHOOK_PORT).toBe(8000);
    expect(sut.settings.WEBHOOK_MAX_CONNECTIONS).toBe(40);
    expect(sut.settings.REDIS_QUEUE_NAME).toBe('telegram_bot');
    expect(sut.settings.TELEGRAM_DELETE_WEBHOOK).toBe(true);
    expect(sut.bots).toHaveLength(1);
    const [bot] = sut.bots;
    expect(bot?.endpoint).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(bot?.endpoint).not.toContain('123456');
    expect(bot?.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(bot?.secret).not.toBe(bot?.endpoint);
    const again = loadConfig({ TELEGRAM_TOKEN: TOKEN, WEBHOOK_DOMAIN: 'bot.example.com' });
    expect(again.bots[0]?.endpoint).toBe(bot?.endpoint);
    expect(again.bots[0]?.secret).toBe(bot?.secret);
  });

  it('supports random, token and literal endpoints', () => {
    const base = { TELEGRAM_TOKEN: TOKEN, TELEGRAM_SET_WEBHOOK: 'false' };
    const a = loadConfig({ ...base, WEBHOOK_ENDPOINT: 'random' }).bots[0]?.endpoint;
    const b = loadConfig({ ...base, WEBHOOK_ENDPOINT: 'random' }).bots[0]?.endpoint;
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(a).not.toBe(b);
    expect(loadConfig({ ...base, WEBHOOK_ENDPOINT: 'token' }).bots[0]?.endpoint).toBe(TOKEN);
    expect(loadConfig({ ...base, WEBHOOK_ENDPOINT: '/telegram/hook' }).bots[0]?.endpoint).toBe(
      'telegram/hook',
    );
  });

  it('parses booleans, integers and CIDR lists', () => {
    const sut = loadConfig({
      TELEGRAM_TOKEN: TOKEN,
      TELEGRAM_SET_WEBHOOK: 'false',
      WEBHOOK_PORT: '9000',
      WEBHOOK_LIMIT_SUBNETS: ' 149.154.160.0/20, 91.108.4.0/22 ,2001:db8::/32',
      WEBHOOK_ALLOWED_UPDATES: 'message, callback_query',
      WEBHOOK_DROP_PENDING_UPDATES: 'yes',
    });
    expect(sut.settings.WEBHOOK_PORT).toBe(9000);
    expect(sut.settings.WEBHOOK_LIMIT_SUBNETS.map((c) => c.text)).toEqual([
      '149.154.160.0/20',
      '91.108.4.0/22',
      '2001:db8::/32',
    ]);
    expect(sut.settings.WEBHOOK_ALLOWED_UPDATES).toEqual(['message', 'callback_query']);
    expect(sut.settings.WEBHOOK_DROP_PENDING_UPDATES).toBe(true);
  });

  it('reports every problem at once, naming the setting and never the secret values', () => {
    const problems = problemsOf({
      TELEGRAM_TOKEN: 'not a token',
      WEBHOOK_PORT: 'eighty',
      WEBHOOK_MAX_CONNECTIONS: '500',
      WEBHOOK_LIMIT_SUBNETS: '10.0.0.0/8,300.1.1.1/8',
      WEBHOOK_SECRET: 'bad secret!',
      REDIS_QUEUE_MODE: 'zset',
      LOG_LEVEL: 'loud',
      WEBHOOK_STATUS_ENDPOINT: 'maybe',
    });
    const text = problems.join('\n');
    for (const name of [
      'TELEGRAM_TOKEN',
      'WEBHOOK_PORT',
      'WEBHOOK_MAX_CONNECTIONS',
      'WEBHOOK_LIMIT_SUBNETS',
      'WEBHOOK_SECRET',
      'REDIS_QUEUE_MODE',
      'LOG_LEVEL',
      'WEBHOOK_STATUS_ENDPOINT',
      'WEBHOOK_DOMAIN',
    ]) {
      expect(text).toContain(name);
    }
    expect(text).toContain('300.1.1.1/8');
    // One message per bad setting, and the first one is about its type.
    expect(problems.filter((p) => p.startsWith('WEBHOOK_PORT'))).toEqual(['WEBHOOK_PORT must be an integer']);
    expect(text).not.toContain('not a token');
    expect(text).not.toContain('bad secret!');
  });

  it('checks settings that depend on each other', () => {
    expect(
      problemsOf({ TELEGRAM_TOKEN: TOKEN, TELEGRAM_SET_WEBHOOK: 'false', REDIS_PUBSUB: 'true' }),
    ).toEqual(['REDIS_PUBSUB=true needs a Redis: REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES']);
  });

  it('requires a token or a bots file', () => {
    expect(problemsOf({ TELEGRAM_SET_WEBHOOK: 'false' }).join()).toContain('TELEGRAM_TOKEN is required');
  });

  it('reads several bots from a YAML bots file with per-bot overrides', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bots-'));
    const file = join(dir, 'bots.yaml');
    writeFileSync(
      file,
      [
        'bots:',
        '  - token: "111:aaa"',
        '    endpoint: shop',
        '    secret: shop_secret',
        '    allowed_updates: [message, pre_checkout_query]',
        '    redis_queue: shop_updates',
        '  - token: "222:bbb"',
        '    mqtt_topic: support/{type}',
      ].join('\n'),
    );
    const sut = loadConfig({ BOTS_FILE: file, TELEGRAM_SET_WEBHOOK: 'false' });
    expect(sut.bots.map((b) => b.source)).toEqual(['BOTS_FILE entry 1', 'BOTS_FILE entry 2']);
    expect(sut.bots[0]).toMatchObject({
      endpoint: 'shop',
      secret: 'shop_secret',
      allowedUpdates: ['message', 'pre_checkout_query'],
      redisQueue: 'shop_updates',
    });
    expect(sut.bots[1]?.mqttTopic).toBe('support/{type}');
  });

  it('rejects bad bots files without echoing tokens', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bots-'));
    const file = join(dir, 'bots.json');
    writeFileSync(
      file,
      JSON.stringify([
        { token: '111:aaa', endpoint: 'x' },
        { token: '222:bbb', endpoint: 'x' },
        { tokn: 'secret-ish' },
      ]),
    );
    const text = problemsOf({ BOTS_FILE: file, TELEGRAM_SET_WEBHOOK: 'false' }).join('\n');
    expect(text).toContain('BOTS_FILE entry 2: webhook endpoint "x" is already used by BOTS_FILE entry 1');
    expect(text).toContain('BOTS_FILE entry 3: unknown key(s) tokn');
    expect(text).not.toContain('111:aaa');
    expect(text).not.toContain('secret-ish');
    writeFileSync(file, 'bots: [ { token: "111:aaa" ');
    expect(problemsOf({ BOTS_FILE: file, TELEGRAM_SET_WEBHOOK: 'false' }).join()).toMatch(
      /BOTS_FILE is not valid YAML/,
    );
    // Where the mistake is, by line and column, and never the line itself (it may hold a token).
    writeFileSync(file, '- token: "111:aaa"\n  endpoint: shop\n - token: "222:secret-bbb"\n');
    const [yaml] = problemsOf({ BOTS_FILE: file, TELEGRAM_SET_WEBHOOK: 'false' });
    expect(yaml).toMatch(/^BOTS_FILE is not valid YAML or JSON at line 3, column 2 \([A-Z_]+\)$/);
    expect(
      problemsOf({ BOTS_FILE: join(dir, 'missing.yaml'), TELEGRAM_SET_WEBHOOK: 'false' }).join(),
    ).toContain('BOTS_FILE cannot be read (ENOENT)');
  });
});

describe('readEnvironment', () => {
  it('loads ENV_FILE under the process environment, which wins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'env-'));
    const file = join(dir, 'test.env');
    writeFileSync(file, 'WEBHOOK_PORT=9100\nREDIS_QUEUE_NAME=from_file\n');
    const sut = readEnvironment({ ENV_FILE: file, WEBHOOK_PORT: '9200' });
    expect(sut.WEBHOOK_PORT).toBe('9200');
    expect(sut.REDIS_QUEUE_NAME).toBe('from_file');
  });

  it('treats a missing env file as empty', () => {
    expect(readEnvironment({ ENV_FILE: '/nonexistent/.env', A: 'b' })).toEqual({
      ENV_FILE: '/nonexistent/.env',
      A: 'b',
    });
  });
});
