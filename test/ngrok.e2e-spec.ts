import { once } from 'node:events';
import { createServer } from 'node:http';
import { runCli } from '../src/cli/cli.js';
import type { CliOutput } from '../src/cli/cli-output.js';
import { startApp, type TestApp } from './support/app.js';
import { FakeBotApi } from './support/fake-bot-api.js';

const BOT = {
  token: '7500000005:NgrokSecretPartOfTheToken_abcdefghijkl',
  id: 7500000005,
  username: 'ngrok_bot',
};
const PUBLIC_HOST = 'f00d-203-0-113-7.ngrok-free.app';

/**
 * A stand-in for the local ngrok agent's API (`GET /api/tunnels`, as ngrok v3 answers it). It
 * answers the first `pollsWithoutTunnel` polls with no tunnel, like an agent that is still
 * connecting, and every later one with the tunnel: counted in polls, not in time, so a service that
 * boots slowly still meets the agent before its tunnel is up.
 */
class NgrokAgentStub {
  pollsWithoutTunnel = Infinity;
  polls = 0;
  url = '';
  private readonly server = createServer((request, response) => {
    if (request.url !== '/api/tunnels') {
      response.writeHead(404).end();
      return;
    }
    this.polls++;
    const tunnels =
      this.polls > this.pollsWithoutTunnel
        ? [
            {
              name: 'command_line',
              uri: '/api/tunnels/command_line',
              public_url: `https://${PUBLIC_HOST}`,
              proto: 'https',
              config: { addr: 'http://localhost:8000', inspect: true },
              metrics: {},
            },
          ]
        : [];
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ tunnels, uri: '/api/tunnels' }));
  });

  static async start(): Promise<NgrokAgentStub> {
    const stub = new NgrokAgentStub();
    stub.server.listen(0, '127.0.0.1');
    await once(stub.server, 'listening');
    const { port } = stub.server.address() as { port: number };
    stub.url = `http://127.0.0.1:${port}/api/tunnels`;
    return stub;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('WEBHOOK_DOMAIN=ngrok', () => {
  let api: FakeBotApi;
  let ngrok: NgrokAgentStub;
  let app: TestApp | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [BOT] });
  });
  beforeEach(async () => {
    ngrok = await NgrokAgentStub.start();
    api.addBot(BOT);
    api.clearCalls();
    env = {
      ENV_FILE: '/nonexistent/.env',
      TELEGRAM_TOKEN: BOT.token,
      TELEGRAM_API_URL: api.url,
      WEBHOOK_DOMAIN: 'ngrok',
      NGROK_API_URL: ngrok.url,
      WEBHOOK_ENDPOINT: 'hook',
      MQTT_EMBEDDED_PORT: '0',
    };
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await ngrok.close();
  });
  afterAll(() => api.close());

  async function cli(args: string[]): Promise<{ code: number; out: string }> {
    const lines: string[] = [];
    const output: CliOutput = {
      line: (text) => lines.push(text),
      warn: (text) => lines.push(`warning: ${text}`),
      error: (text) => lines.push(`error: ${text}`),
      stderr: (text) => lines.push(text),
    };
    const code = await runCli(args, { env, output });
    return { code, out: lines.join('\n') };
  }

  it('registers the webhook at the tunnel’s https URL, waiting for the tunnel to come up', async () => {
    ngrok.pollsWithoutTunnel = 2;
    app = await startApp(env);
    // Asked again until the tunnel was up, then no more.
    expect(ngrok.polls).toBe(3);
    expect(api.webhookInfo(BOT.token).url).toBe(`https://${PUBLIC_HOST}/hook`);
    expect(api.calls('setWebhook')).toHaveLength(1);
  });

  it('config check prints the URL ngrok gives', async () => {
    ngrok.pollsWithoutTunnel = 0;
    const run = await cli(['config', 'check']);
    expect(run.code).toBe(0);
    expect(run.out).toContain(`Mode: webhook at https://${PUBLIC_HOST}/<endpoint> (from ngrok)`);
  });

  it('gives up after a short wait with what to do when no tunnel comes up', async () => {
    const started = Date.now();
    const run = await cli(['webhook', 'set']);
    expect(run.code).toBe(2);
    expect(run.out).toContain(
      'error: WEBHOOK_DOMAIN=ngrok, but no https tunnel was found at http://127.0.0.1:',
    );
    expect(run.out).toContain('(the agent has no https tunnel yet). Start one with "ngrok http 8000"');
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(api.calls('setWebhook')).toEqual([]);
  }, 20_000);
});
