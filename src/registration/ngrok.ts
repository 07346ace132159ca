import { setTimeout as sleep } from 'node:timers/promises';
import { redactUrl } from '../common/redact.js';
import type { Settings } from '../config/settings.js';
import { errorMessage } from '../common/error-message.js';

/** The WEBHOOK_DOMAIN value that means "whatever public URL the local ngrok agent has". */
export const NGROK_DOMAIN = 'ngrok';

/** How long to wait for the ngrok agent and its tunnel, which often start together with the service. */
const DEFAULT_WAIT_MS = 10_000;
const POLL_INTERVAL_MS = 500;

export interface NgrokLookupOptions {
  /** Prefer the tunnel forwarding to this local port (WEBHOOK_PORT) when the agent has several. */
  localPort?: number;
  waitMs?: number;
  intervalMs?: number;
}

/** No https tunnel could be read from the ngrok agent API in time. */
export class NgrokError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NgrokError';
  }
}

interface NgrokTunnel {
  public_url?: unknown;
  proto?: unknown;
  config?: { addr?: unknown };
}

/**
 * Reads the public https host of the local ngrok agent's tunnel from its API (NGROK_API_URL,
 * `GET /api/tunnels`, ngrok.com/docs/agent/api), asking again every half second until one appears
 * or `waitMs` passes.
 */
export async function resolveNgrokHost(apiUrl: string, options: NgrokLookupOptions = {}): Promise<string> {
  const waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
  const deadline = Date.now() + waitMs;
  let problem = 'no answer';
  for (;;) {
    try {
      const response = await fetch(apiUrl, { signal: AbortSignal.timeout(2000) });
      if (!response.ok) {
        problem = `HTTP ${response.status}`;
      } else {
        const host = pickTunnel((await response.json()) as { tunnels?: unknown }, options.localPort);
        if (host) return host;
        problem = 'the agent has no https tunnel yet';
      }
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      problem = cause?.code ?? cause?.message ?? errorMessage(error);
    }
    if (Date.now() + (options.intervalMs ?? POLL_INTERVAL_MS) > deadline) break;
    await sleep(options.intervalMs ?? POLL_INTERVAL_MS);
  }
  throw new NgrokError(
    `WEBHOOK_DOMAIN=ngrok, but no https tunnel was found at ${redactUrl(apiUrl)} within ${Math.round(waitMs / 1000)} s (${problem}). ` +
      `Start one with "ngrok http ${options.localPort ?? '<WEBHOOK_PORT>'}", or set NGROK_API_URL to where the agent API listens.`,
  );
}

function pickTunnel(answer: { tunnels?: unknown }, localPort?: number): string | undefined {
  const tunnels = Array.isArray(answer.tunnels) ? (answer.tunnels as NgrokTunnel[]) : [];
  const https = tunnels.filter(
    (t): t is NgrokTunnel & { public_url: string } =>
      typeof t.public_url === 'string' && t.public_url.startsWith('https://'),
  );
  const forwardsToPort = (t: NgrokTunnel): boolean =>
    localPort !== undefined &&
    typeof t.config?.addr === 'string' &&
    new RegExp(`(^|:)${localPort}/?$`).test(t.config.addr);
  const tunnel = https.find(forwardsToPort) ?? https[0];
  return tunnel ? new URL(tunnel.public_url).host : undefined;
}

/**
 * The public host (and port) of the webhook URL: WEBHOOK_DOMAIN, or the ngrok tunnel's host when
 * WEBHOOK_DOMAIN=ngrok.
 */
export async function resolveWebhookDomain(
  settings: Pick<Settings, 'WEBHOOK_DOMAIN' | 'NGROK_API_URL' | 'WEBHOOK_PORT'>,
  options: Omit<NgrokLookupOptions, 'localPort'> = {},
): Promise<string | undefined> {
  if (settings.WEBHOOK_DOMAIN !== NGROK_DOMAIN) return settings.WEBHOOK_DOMAIN;
  return resolveNgrokHost(settings.NGROK_API_URL, { ...options, localPort: settings.WEBHOOK_PORT });
}
