import { randomBytes } from 'node:crypto';
import { configSecrets, SecretScrubber } from '../logging/secret-scrubber.js';
import { ConfigurationError, loadConfig } from './load-settings.js';
import { SECRET_SETTINGS } from './settings.js';

const KEY = randomBytes(32).toString('base64');
const store = { BOTS_STORE: 'redis', REDIS_URL: 'redis://127.0.0.1:6379', WEBHOOK_DOMAIN: 'bot.example.com' };

function problems(env: Record<string, string>): readonly string[] {
  try {
    loadConfig({ ENV_FILE: '/nonexistent/.env', ...env });
  } catch (error) {
    if (error instanceof ConfigurationError) return error.problems;
    throw error;
  }
  return [];
}

describe('bot store settings', () => {
  it('BOTS_STORE is none by default; TELEGRAM_TOKEN is then still required', () => {
    const config = loadConfig({ TELEGRAM_TOKEN: '123456:AAH-token', WEBHOOK_DOMAIN: 'bot.example.com' });
    expect(config.settings.BOTS_STORE).toBe('none');
    expect(problems({ WEBHOOK_DOMAIN: 'bot.example.com' })).toEqual([
      'TELEGRAM_TOKEN is required (or list bots in BOTS_FILE, or keep them in BOTS_STORE=redis)',
    ]);
    expect(problems({ ...store, BOTS_STORE: 'sql', BOTS_ENCRYPTION_KEY: KEY })).toContain(
      'BOTS_STORE must be none or redis',
    );
  });

  it('with BOTS_STORE=redis, starts with no bot configured at all', () => {
    const config = loadConfig({ ENV_FILE: '/nonexistent/.env', ...store, BOTS_ENCRYPTION_KEY: KEY });
    expect(config.bots).toEqual([]);
    expect(config.settings.BOTS_ENCRYPTION_KEY).toBe(KEY);
  });

  it('BOTS_ENCRYPTION_KEY is required, and must be 32 bytes of base64; the value is never echoed', () => {
    expect(problems(store)).toEqual([
      'BOTS_ENCRYPTION_KEY is required with BOTS_STORE=redis: 32 random bytes in base64 (openssl rand -base64 32)',
    ]);
    const short = randomBytes(16).toString('base64');
    expect(problems({ ...store, BOTS_ENCRYPTION_KEY: short })).toEqual([
      'BOTS_ENCRYPTION_KEY must be 32 bytes in base64 (openssl rand -base64 32); it decodes to 16 bytes',
    ]);
    const notBase64 = 'not base64 at all, but the key!';
    const refused = problems({ ...store, BOTS_ENCRYPTION_KEY: notBase64 });
    expect(refused).toEqual([
      'BOTS_ENCRYPTION_KEY must be 32 bytes in base64 (openssl rand -base64 32); it is not base64',
    ]);
    expect(refused.join()).not.toContain(short);
    expect(SECRET_SETTINGS.has('BOTS_ENCRYPTION_KEY')).toBe(true);
  });

  it('needs a Redis, and refuses polling mode', () => {
    expect(problems({ ...store, REDIS_URL: '', BOTS_ENCRYPTION_KEY: KEY })).toEqual([
      'BOTS_STORE=redis needs a Redis to keep the bots in: REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES',
    ]);
    expect(problems({ ...store, BOTS_ENCRYPTION_KEY: KEY, TELEGRAM_MODE: 'polling' })).toEqual([
      'BOTS_STORE=redis works in webhook mode only: TELEGRAM_MODE=polling fetches for the bots it started with',
    ]);
  });

  it('the key is scrubbed from output like the other secrets', () => {
    const config = loadConfig({ ENV_FILE: '/nonexistent/.env', ...store, BOTS_ENCRYPTION_KEY: KEY });
    const sut = new SecretScrubber();
    sut.add(...configSecrets(config));
    const scrubbed = sut.scrub(`the key is ${KEY} here`);
    for (const part of KEY.split(/[^A-Za-z0-9_-]+/).filter((p) => p.length >= 6)) {
      expect(scrubbed).not.toContain(part);
    }
  });
});
