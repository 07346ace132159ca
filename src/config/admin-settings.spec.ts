import { ConfigurationError, loadConfig } from './load-settings.js';

const base = { TELEGRAM_TOKEN: '123456:AAH-secret_token_value', WEBHOOK_DOMAIN: 'bot.example.com' };
const ADMIN_TOKEN = '0123456789abcdef0123456789abcdef';

function problems(env: Record<string, string>): readonly string[] {
  try {
    loadConfig({ ...base, ...env });
  } catch (error) {
    if (error instanceof ConfigurationError) return error.problems;
    throw error;
  }
  return [];
}

describe('admin API settings', () => {
  it('are off by default, and listen on loopback when on', () => {
    expect(loadConfig(base).settings.ADMIN_PORT).toBeUndefined();
    const sut = loadConfig({ ...base, ADMIN_PORT: '9100', ADMIN_TOKEN });
    expect(sut.settings).toMatchObject({ ADMIN_PORT: 9100, ADMIN_BIND: '127.0.0.1', ADMIN_TOKEN });
  });

  it('ADMIN_TOKEN is required with ADMIN_PORT, long and of the secret alphabet, never echoed', () => {
    expect(problems({ ADMIN_PORT: '9100' })).toEqual([
      'ADMIN_TOKEN is required with ADMIN_PORT: the bearer token the admin API takes',
    ]);
    const short = problems({ ADMIN_PORT: '9100', ADMIN_TOKEN: 'short_token' });
    expect(short).toEqual([
      'ADMIN_TOKEN must be 32–256 characters of A-Z a-z 0-9 _ - (e.g. openssl rand -hex 32)',
    ]);
    expect(problems({ ADMIN_PORT: '9100', ADMIN_TOKEN: `${ADMIN_TOKEN} x` }).join()).not.toContain(
      ADMIN_TOKEN,
    );
  });

  it('ADMIN_PORT differs from WEBHOOK_PORT and OPS_PORT, and no bot is served at an admin path', () => {
    expect(problems({ ADMIN_PORT: '8000', ADMIN_TOKEN })).toEqual([
      'ADMIN_PORT must differ from WEBHOOK_PORT: the admin API never listens on the webhook port',
    ]);
    expect(problems({ ADMIN_PORT: '9000', OPS_PORT: '9000', ADMIN_TOKEN })).toEqual([
      'ADMIN_PORT must differ from OPS_PORT',
    ]);
    expect(problems({ ADMIN_PORT: '9100', ADMIN_TOKEN, WEBHOOK_ENDPOINT: '/bots' })).toEqual([
      'TELEGRAM_TOKEN: endpoint "bots" is a path of the admin API (ADMIN_PORT); choose another',
    ]);
    expect(problems({ WEBHOOK_ENDPOINT: '/bots' })).toEqual([]);
  });
});
