import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { NgrokError, resolveNgrokHost, resolveWebhookDomain } from './ngrok.js';

/** A stand-in for the ngrok agent API: `GET /api/tunnels` answers whatever `tunnels` holds now. */
async function agent(tunnels: () => unknown[] | undefined): Promise<{ url: string; server: Server }> {
  const server = createServer((_request, response) => {
    const list = tunnels();
    if (list === undefined) {
      response.writeHead(502).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ tunnels: list, uri: '/api/tunnels' }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/api/tunnels`, server };
}

const tunnel = (publicUrl: string, addr: string, proto = 'https') => ({
  name: 'command_line',
  public_url: publicUrl,
  proto,
  config: { addr, inspect: true },
});

describe('ngrok', () => {
  const servers: Server[] = [];
  afterEach(() => servers.splice(0).forEach((s) => s.close()));

  it('takes the https tunnel forwarding to WEBHOOK_PORT', async () => {
    const { url, server } = await agent(() => [
      tunnel('http://plain.ngrok.app', 'http://localhost:8000', 'http'),
      tunnel('https://other.ngrok.app', 'http://localhost:3000'),
      tunnel('https://ours.ngrok-free.app', 'http://localhost:8000'),
    ]);
    servers.push(server);
    await expect(resolveNgrokHost(url, { localPort: 8000 })).resolves.toBe('ours.ngrok-free.app');
    await expect(resolveNgrokHost(url, { localPort: 9999 })).resolves.toBe('other.ngrok.app');
  });

  it('waits for the tunnel to appear', async () => {
    let calls = 0;
    const { url, server } = await agent(() =>
      ++calls < 3 ? (calls === 1 ? undefined : []) : [tunnel('https://late.ngrok.app', '8000')],
    );
    servers.push(server);
    await expect(resolveNgrokHost(url, { intervalMs: 20, waitMs: 2000 })).resolves.toBe('late.ngrok.app');
    expect(calls).toBe(3);
  });

  it('gives up after waitMs with a message saying what to do', async () => {
    const { url, server } = await agent(() => []);
    servers.push(server);
    const started = Date.now();
    const lookup = resolveNgrokHost(url, { localPort: 8000, intervalMs: 20, waitMs: 200 });
    await expect(lookup).rejects.toThrow(NgrokError);
    await expect(lookup).rejects.toThrow(/no https tunnel.*has no https tunnel yet.*ngrok http 8000/);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('leaves any other WEBHOOK_DOMAIN as it is, without asking ngrok', async () => {
    await expect(
      resolveWebhookDomain({
        WEBHOOK_DOMAIN: 'bot.example.com:8443',
        NGROK_API_URL: 'http://127.0.0.1:9/',
        WEBHOOK_PORT: 8000,
      }),
    ).resolves.toBe('bot.example.com:8443');
  });
});
