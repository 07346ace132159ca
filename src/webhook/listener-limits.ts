import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Settings } from '../config/settings.js';

type ListenerSettings = Pick<
  Settings,
  | 'WEBHOOK_HEADERS_TIMEOUT_MS'
  | 'WEBHOOK_BODY_TIMEOUT_MS'
  | 'WEBHOOK_KEEPALIVE_TIMEOUT_MS'
  | 'WEBHOOK_MAX_SOCKETS'
  | 'PUBLISH_TIMEOUT_MS'
>;

/**
 * Bounds what a connection can hold, with Node's own timers (no timer per request):
 * - headers within WEBHOOK_HEADERS_TIMEOUT_MS, the whole request within that plus
 *   WEBHOOK_BODY_TIMEOUT_MS, else 408 and the connection closed (Node answers; `onTimeout` counts);
 * - an idle connection, before its first request or between two, closed after
 *   WEBHOOK_KEEPALIVE_TIMEOUT_MS — but never while an update waits for its broker;
 * - at most WEBHOOK_MAX_SOCKETS connections, the rest refused as they come.
 * Node and Fastify default to no request timeout and no cap: a client that announced a large body
 * and stalled held its buffers for good.
 */
export function limitListener(
  server: Server,
  settings: ListenerSettings,
  onClientError: (code: string | undefined, socket: Socket) => void,
): void {
  server.headersTimeout = settings.WEBHOOK_HEADERS_TIMEOUT_MS;
  server.requestTimeout = settings.WEBHOOK_HEADERS_TIMEOUT_MS + settings.WEBHOOK_BODY_TIMEOUT_MS;
  server.keepAliveTimeout = settings.WEBHOOK_KEEPALIVE_TIMEOUT_MS;
  // Inactivity of the socket itself: what closes a connection that never sends a byte. It runs
  // while a request awaits its publish too, so it is never shorter than PUBLISH_TIMEOUT_MS.
  server.setTimeout(Math.max(settings.WEBHOOK_KEEPALIVE_TIMEOUT_MS, settings.PUBLISH_TIMEOUT_MS + 1000));
  server.maxConnections = settings.WEBHOOK_MAX_SOCKETS;
  // How often Node looks for requests past their time (default 30 s, too coarse for a 1 s limit).
  // Read by Node when the server starts listening (lib/_http_server.js, setupConnectionsTracking).
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.max(
    50,
    Math.min(
      1000,
      Math.floor(Math.min(settings.WEBHOOK_HEADERS_TIMEOUT_MS, settings.WEBHOOK_BODY_TIMEOUT_MS) / 4),
    ),
  );
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) =>
    onClientError(error.code, socket),
  );
}
