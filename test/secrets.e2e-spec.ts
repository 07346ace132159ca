import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deriveSecret } from '../src/config/bots.js';
import { writeBotsFile } from './support/app.js';
import { freePort } from './support/brokers.js';
import { FakeBotApi } from './support/fake-bot-api.js';
import { ReceiverProcess } from './support/receiver-process.js';
import { waitUntil } from './support/wait.js';

/**
 * Whatever code writes a line — a Bot API error echoing `/bot<token>/…` and the parameters sent,
 * here — the built service's logs and the CLI's output never hold a token, its secret part or a
 * webhook secret: each is scrubbed at the sink, and the public bot id before the colon stays.
 */
const ALPHA = {
  token: '7410000001:AAAlphaTokenSecretPart_0123456789abcd',
  id: 7410000001,
  username: 'alpha_bot',
};
const BETA = {
  token: '7420000002:BBBetaTokenSecretPart_0123456789abcde',
  id: 7420000002,
  username: 'beta_bot',
};
/** BETA's own secret, from BOTS_FILE. */
const BETA_SECRET = 'beta-own-webhook-secret_0123456789';
/** WEBHOOK_SECRET, in the CLI's configuration. */
const SHARED_SECRET = 'shared-webhook-secret_9876543210';
const MARKER = '[redacted]';
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** Everything that must never be printed: tokens, their secret parts, every kind of webhook secret. */
const FORBIDDEN = [
  ALPHA.token,
  BETA.token,
  ALPHA.token.split(':')[1] as string,
  BETA.token.split(':')[1] as string,
  deriveSecret(ALPHA.token),
  BETA_SECRET,
  SHARED_SECRET,
];

function expectNoSecret(output: string): void {
  for (const secret of FORBIDDEN) expect(output).not.toContain(secret);
}

/** The `msg` of every JSON line, so assertions read the messages rather than their JSON escaping. */
function messages(logs: string): string {
  return logs
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => String((JSON.parse(line) as { msg?: unknown }).msg))
    .join('\n');
}

describe('secrets in output', () => {
  let api: FakeBotApi;
  let botsFile: string;

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [ALPHA, BETA] });
    botsFile = writeBotsFile(`bots:\n  - token: "${BETA.token}"\n    secret: ${BETA_SECRET}\n`);
  });
  afterAll(async () => {
    await api.close();
    rmSync(dirname(botsFile), { recursive: true, force: true });
  });
  beforeEach(() => api.clearCalls());

  const serviceEnv = async (): Promise<Record<string, string>> => ({
    // ALPHA's secret is derived from its token (no WEBHOOK_SECRET); BETA has its own.
    TELEGRAM_TOKEN: ALPHA.token,
    BOTS_FILE: botsFile,
    WEBHOOK_DOMAIN: 'bot.example.com',
    WEBHOOK_PORT: String(await freePort()),
    WEBHOOK_BIND: '127.0.0.1',
    REDIS_URL: 'redis://127.0.0.1:6379',
    REDIS_QUEUE_NAME: `test:secrets:${process.pid}`,
    TELEGRAM_API_URL: api.url,
    LOG_LEVEL: 'trace',
  });

  it('the service logs (trace) hold no token or secret when Bot API errors echo them back', async () => {
    // Both through the app's pino logger: the registrar's warning, and the client's retry notice.
    api.failNext('getWebhookInfo', { status: 404, echo: 'path', times: 2 });
    api.failNext('setWebhook', { status: 502, echo: 'params', times: 2 });
    const sut = await ReceiverProcess.start(await serviceEnv());
    expect(await sut.stop()).toBe(0);
    expect(api.calls('setWebhook')).toHaveLength(4);

    const logged = messages(sut.logs);
    expect(logged).toContain('Receiving 2 bot(s)');
    expect(logged).toContain(`method /bot${ALPHA.id}:${MARKER}/getWebhookInfo not found`);
    expect(logged).toContain(`method /bot${BETA.id}:${MARKER}/getWebhookInfo not found`);
    expect(logged).toContain(`method /bot${ALPHA.id}:${MARKER}/setWebhook not found with {`);
    expect(logged.match(/"secret_token":"\[redacted\]"/g)).toHaveLength(2);
    expectNoSecret(sut.logs);
  });

  it('the bootstrap logger scrubs the start-up error of a getMe that echoes the token', async () => {
    api.failNext('getMe', { status: 404, echo: 'path', token: BETA.token });
    const sut = await ReceiverProcess.start(await serviceEnv());
    expect(await sut.exited).toBe(1);
    await waitUntil(() => sut.logs.includes('getMe failed'));
    expect(messages(sut.logs)).toContain(
      `getMe failed for the bot from BOTS_FILE entry 1: getMe failed: 404 Not Found: method /bot${BETA.id}:${MARKER}/getMe not found`,
    );
    expectNoSecret(sut.logs);
  });

  /** The built CLI (dist/cli.js) as a user runs it; resolves once its output is complete. */
  async function cli(args: string[]): Promise<{ code: number; output: string }> {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        ENV_FILE: '/nonexistent/.env',
        TELEGRAM_TOKEN: ALPHA.token,
        BOTS_FILE: botsFile,
        WEBHOOK_SECRET: SHARED_SECRET,
        WEBHOOK_DOMAIN: 'bot.example.com',
        TELEGRAM_API_URL: api.url,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, 'close')) as [number];
    return { code, output };
  }

  it('the CLI prints no token or secret when Bot API errors echo them back', async () => {
    api.failNext('getWebhookInfo', { status: 404, echo: 'path', token: ALPHA.token });
    const info = await cli(['webhook', 'info']);
    expect(info.code).toBe(1);
    expect(info.output).toContain(
      'error: getWebhookInfo failed for bot @alpha_bot (TELEGRAM_TOKEN): getWebhookInfo failed: 404 Not Found',
    );
    expect(info.output).toContain(`method /bot${ALPHA.id}:${MARKER}/getWebhookInfo not found`);
    expectNoSecret(info.output);

    // The retry notice comes through Nest's Logger (CliLogger), the failure through the command.
    api.failNext('setWebhook', { status: 502, echo: 'params', token: ALPHA.token });
    api.failNext('setWebhook', { status: 400, echo: 'params', token: BETA.token });
    const set = await cli(['webhook', 'set']);
    expect(set.code).toBe(1);
    expect(set.output).toContain(
      `warning: setWebhook failed: 502 Bad Gateway: method /bot${ALPHA.id}:${MARKER}/setWebhook`,
    );
    expect(set.output).toContain(`method /bot${BETA.id}:${MARKER}/setWebhook not found with {`);
    expect(set.output.match(/"secret_token":"\[redacted\]"/g)).toHaveLength(2);
    expectNoSecret(set.output);
  });
});
