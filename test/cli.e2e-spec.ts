import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../src/cli/cli.js';
import type { CliOutput } from '../src/cli/cli-output.js';
import { loadConfig } from '../src/config/load-settings.js';
import { FakeBotApi } from './support/fake-bot-api.js';

const ALPHA = {
  token: '7100000001:AAAlphaSecretPartOfTheToken_abcdefghij',
  id: 7100000001,
  username: 'alpha_bot',
};
const BETA = {
  token: '7200000002:BBBetaSecretPartOfTheToken_abcdefghijk',
  id: 7200000002,
  username: 'beta_bot',
};
/** Looks like a token, unknown to the fake Bot API: getMe answers 401. */
const REVOKED = '7300000003:CCRevokedSecretPartOfTheToken_abcdefg';
const SECRET = 'cli-test-webhook-secret_0123456789';
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('telegram-receiver CLI', () => {
  let api: FakeBotApi;
  let dir: string;
  let botsFile: string;

  /** Runs a command in-process with exactly these settings (never the real environment or .env). */
  async function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
    const out: string[] = [];
    const err: string[] = [];
    const output: CliOutput = {
      line: (text) => out.push(text),
      warn: (text) => err.push(`warning: ${text}`),
      error: (text) => err.push(`error: ${text}`),
      stderr: (text) => err.push(text),
    };
    const code = await runCli(args, {
      env: {
        ENV_FILE: '/nonexistent/.env',
        TELEGRAM_API_URL: api.url,
        TELEGRAM_RETRY_TIMEOUT_MS: '0',
        WEBHOOK_DOMAIN: 'bot.example.com',
        ...env,
      },
      output,
    });
    const run = { code, stdout: out.join('\n'), stderr: err.join('\n') };
    // Whatever a command prints, it never prints a token's secret part or the webhook secret.
    for (const secret of [ALPHA.token, BETA.token, REVOKED, SECRET].map(
      (t) => t.split(':').pop() as string,
    )) {
      expect(run.stdout + run.stderr).not.toContain(secret);
    }
    return run;
  }

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [ALPHA, BETA] });
    dir = mkdtempSync(join(tmpdir(), 'cli-e2e-'));
    botsFile = join(dir, 'bots.yaml');
    writeFileSync(
      botsFile,
      `bots:\n  - token: "${ALPHA.token}"\n  - token: "${BETA.token}"\n    endpoint: beta\n`,
    );
  });
  afterAll(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    api.addBot(ALPHA); // a clean webhook state per test
    api.addBot(BETA);
    api.clearCalls();
  });

  describe('bots check', () => {
    it('prints id, username, webhook and pending updates of every bot, exit 0', async () => {
      api.setPendingUpdates(ALPHA.token, [
        { update_id: 1, message: {} },
        { update_id: 2, message: {} },
      ]);
      const run = await cli(['bots', 'check'], { BOTS_FILE: botsFile, WEBHOOK_DOMAIN: '' });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('✓ bot 1 (BOTS_FILE entry 1): @alpha_bot, id 7100000001');
      expect(run.stdout).toContain('webhook: not set (pending updates: 2)');
      expect(run.stdout).toContain('✓ bot 2 (BOTS_FILE entry 2): @beta_bot, id 7200000002');
    });

    it('exits 1 and names the bot whose token the Bot API rejects', async () => {
      writeFileSync(
        join(dir, 'revoked.yaml'),
        `- token: "${ALPHA.token}"\n- token: "${REVOKED}"\n  endpoint: r\n`,
      );
      const run = await cli(['bots', 'check'], { BOTS_FILE: join(dir, 'revoked.yaml') });
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('✓ bot 1 (BOTS_FILE entry 1): @alpha_bot');
      expect(run.stdout).toContain(
        '✗ bot 2 (BOTS_FILE entry 2): the Bot API rejected the token (401 Unauthorized)',
      );
      expect(run.stderr).toContain('1 of 2 bot(s) failed the check');
    });
  });

  describe('webhook', () => {
    it('set registers this configuration, info shows it, delete removes it', async () => {
      const env = { TELEGRAM_TOKEN: ALPHA.token, WEBHOOK_SECRET: SECRET, WEBHOOK_ENDPOINT: 'hook/alpha' };
      const set = await cli(['webhook', 'set'], env);
      expect(set).toMatchObject({ code: 0 });
      expect(set.stdout).toBe(
        '✓ webhook set for bot @alpha_bot (TELEGRAM_TOKEN): https://bot.example.com/hook/alpha',
      );
      expect(api.webhookInfo(ALPHA.token).url).toBe('https://bot.example.com/hook/alpha');
      expect(api.webhookSecret(ALPHA.token)).toBe(SECRET);

      api.setWebhookError(ALPHA.token, 'Connection timed out', 1_800_000_000);
      const info = await cli(['webhook', 'info'], env);
      expect(info.code).toBe(0);
      expect(info.stdout).toContain('bot @alpha_bot (TELEGRAM_TOKEN), id 7100000001');
      expect(info.stdout).toContain(
        'url:                 https://bot.example.com/hook/alpha (matches this configuration)',
      );
      expect(info.stdout).toContain('last delivery error: 2027-01-15T08:00:00.000Z: Connection timed out');

      api.setPendingUpdates(ALPHA.token, [{ update_id: 5, message: {} }]);
      const del = await cli(['webhook', 'delete', '--drop-pending'], env);
      expect(del.code).toBe(0);
      expect(del.stdout).toBe(
        '✓ webhook deleted for bot @alpha_bot (TELEGRAM_TOKEN); pending updates dropped',
      );
      expect(api.calls('deleteWebhook').at(-1)?.params).toMatchObject({ drop_pending_updates: true });
      expect(api.webhookInfo(ALPHA.token)).toMatchObject({ url: '', pending_update_count: 0 });
    });

    it('info tells when Telegram has another URL than this configuration registers', async () => {
      await cli(['webhook', 'set'], { TELEGRAM_TOKEN: ALPHA.token, WEBHOOK_DOMAIN: 'old.example.com' });
      const info = await cli(['webhook', 'info'], { TELEGRAM_TOKEN: ALPHA.token, WEBHOOK_ENDPOINT: 'new' });
      expect(info.stdout).toMatch(
        /url: +https:\/\/old\.example\.com\/\S+ \(this configuration registers https:\/\/bot\.example\.com\/new\)/,
      );
    });

    it('--bot picks one bot by @username, id or endpoint', async () => {
      const env = { BOTS_FILE: botsFile };
      const byName = await cli(['webhook', 'set', '--bot', '@beta_bot'], env);
      expect(byName.code).toBe(0);
      expect(api.calls('setWebhook').map((c) => c.token)).toEqual([BETA.token]);
      expect(api.webhookInfo(BETA.token).url).toBe('https://bot.example.com/beta');

      const byEndpoint = await cli(['webhook', 'delete', '--bot', 'beta'], env);
      expect(byEndpoint.code).toBe(0);
      expect(byEndpoint.stdout).toContain('pending updates kept');
      expect(api.calls('deleteWebhook').map((c) => c.token)).toEqual([BETA.token]);

      const byId = await cli(['webhook', 'info', '--bot', String(ALPHA.id)], env);
      expect(byId.stdout).toContain('@alpha_bot');
      expect(byId.stdout).not.toContain('@beta_bot');

      const none = await cli(['webhook', 'info', '--bot', '@nobody'], env);
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('No configured bot matches --bot @nobody');
    });

    it('set exits 1 with Telegram’s reason when setWebhook fails, and warns about the port', async () => {
      const run = await cli(['webhook', 'set'], {
        TELEGRAM_TOKEN: ALPHA.token,
        WEBHOOK_DOMAIN: 'bot.example.com:8000',
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('warning: the webhook URL uses port 8000');
      expect(run.stdout).toContain(
        '✗ setWebhook failed for bot @alpha_bot (TELEGRAM_TOKEN): setWebhook failed: 400 Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443',
      );
    });

    it('set needs WEBHOOK_DOMAIN, exit 2', async () => {
      const run = await cli(['webhook', 'set'], {
        TELEGRAM_TOKEN: ALPHA.token,
        WEBHOOK_DOMAIN: '',
        TELEGRAM_SET_WEBHOOK: 'false',
      });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('WEBHOOK_DOMAIN is required to set a webhook');
      expect(api.calls('setWebhook')).toEqual([]);
    });
  });

  describe('config check', () => {
    it('prints the effective configuration with secrets masked and warns about the port', async () => {
      const run = await cli(['config', 'check'], {
        TELEGRAM_TOKEN: ALPHA.token,
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_DOMAIN: 'bot.example.com:8000',
        REDIS_URL: 'redis://:redis-password@127.0.0.1:6379/0',
      });
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/TELEGRAM_TOKEN +7100000001:\*\*\*/);
      expect(run.stdout).toMatch(/WEBHOOK_SECRET +\*\*\*/);
      expect(run.stdout).toMatch(/REDIS_URL +redis:\/\/:\*\*\*@127\.0\.0\.1:6379\/0/);
      expect(run.stdout).not.toContain('redis-password');
      expect(run.stdout).toContain('Mode: webhook at https://bot.example.com:8000/<endpoint>');
      expect(run.stderr).toContain(
        'warning: the webhook URL uses port 8000, but Telegram only delivers to ports 443, 80, 88, 8443',
      );
      expect(run.stdout).toContain('Configuration is valid, with 1 warning(s).');
    });

    it('exits 2 listing every invalid setting', async () => {
      const run = await cli(['config', 'check'], { TELEGRAM_TOKEN: 'not-a-token', WEBHOOK_PORT: 'eighty' });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('Invalid configuration:');
      expect(run.stderr).toContain('TELEGRAM_TOKEN');
      expect(run.stderr).toContain('WEBHOOK_PORT');
      expect(run.stderr).not.toContain('not-a-token');
    });

    it('exits 2 when a BOTS_FILE endpoint is not a path Telegram’s requests can reach (x/../y)', async () => {
      const file = join(dir, 'dot-segment.yaml');
      writeFileSync(file, `- token: "${ALPHA.token}"\n  endpoint: "x/../y"\n`);
      const run = await cli(['config', 'check'], { BOTS_FILE: file });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(
        'BOTS_FILE entry 1: endpoint must be hash, random, token or a URL path: segments of A-Z a-z 0-9 . _ ~ - separated by /, at most 256 characters; it has a "." or ".." segment',
      );
      expect(run.stdout).not.toContain('Configuration is valid');
    });
  });

  describe('cert', () => {
    it('new writes a self-signed certificate for WEBHOOK_DOMAIN; show describes it', async () => {
      const cert = join(dir, 'tls', 'cert.pem');
      const key = join(dir, 'tls', 'key.pem');
      const env = { WEBHOOK_DOMAIN: 'bot.example.com:8443', WEBHOOK_CERT: cert, WEBHOOK_KEY: key };
      const created = await cli(['cert', 'new', '--days', '30'], env);
      expect(created.code).toBe(0);
      expect(created.stdout).toContain('subject:     CN=bot.example.com');
      expect(created.stdout).toContain('names (SAN): DNS:bot.example.com');
      expect(statSync(key).mode & 0o777).toBe(0o600);
      expect(readFileSync(cert, 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----\n/);

      const shown = await cli(['cert', 'show'], env);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toContain(
        'issuer:      CN=bot.example.com (self-signed: uploaded to Telegram with setWebhook)',
      );
      expect(shown.stdout).toMatch(/valid until: .* \(30 days left\)/);
      expect(shown.stdout).toContain(`key:         ${key} matches`);

      // The pair is what the service accepts.
      expect(() =>
        loadConfig({ ENV_FILE: '/nonexistent/.env', TELEGRAM_TOKEN: ALPHA.token, ...env }),
      ).not.toThrow();

      const again = await cli(['cert', 'new'], env);
      expect(again.code).toBe(2);
      expect(again.stderr).toContain(`${cert} already exists: pass --force to replace it`);
    });

    it('new certifies an IP address as an IP SAN', async () => {
      const cert = join(dir, 'ip-cert.pem');
      const run = await cli([
        'cert',
        'new',
        '--domain',
        '203.0.113.7:88',
        '--cert',
        cert,
        '--key',
        join(dir, 'ip-key.pem'),
      ]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('names (SAN): IP Address:203.0.113.7');
    });

    it('refuses what it cannot do, exit 2', async () => {
      expect((await cli(['cert', 'new', '--days', '0'])).code).toBe(2);
      expect((await cli(['cert', 'new'], { WEBHOOK_DOMAIN: 'ngrok' })).stderr).toContain(
        'ngrok serves its own certificate',
      );
      expect((await cli(['cert', 'show'])).stderr).toContain(
        'No certificate to show: set WEBHOOK_CERT or pass --cert',
      );
      expect((await cli(['cert', 'show', '--cert', join(dir, 'bots.yaml')])).code).toBe(1);
    });
  });

  it('answers usage mistakes with exit 2', async () => {
    const run = await cli(['webhook', 'sett']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown command 'sett'");
  });

  it('prints its version with --version and exits 0', async () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const run = await cli(['--version']);
    expect(run).toMatchObject({ code: 0, stdout: manifest.version });
  });

  it('runs as the built bin entry (dist/cli.js; npm test builds first)', async () => {
    const child = spawn(process.execPath, [CLI, 'bots', 'check'], {
      env: {
        PATH: process.env.PATH ?? '',
        ENV_FILE: '/nonexistent/.env',
        TELEGRAM_TOKEN: REVOKED,
        TELEGRAM_API_URL: api.url,
        TELEGRAM_SET_WEBHOOK: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(1);
    expect(out).toContain('✗ bot 1 (TELEGRAM_TOKEN): the Bot API rejected the token (401 Unauthorized)');
    expect(out).toContain('error: 1 of 1 bot(s) failed the check');
    expect(out).not.toContain(REVOKED.split(':')[1]);
  });
});
