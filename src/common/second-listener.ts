import type { FastifyInstance } from 'fastify';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';

/**
 * A second plain-HTTP listener (OPS_PORT, ADMIN_PORT) that hands every request to the app's own
 * Fastify instance (`fastify.routing`: the same routes, hooks and handlers); guards on
 * `request.raw.socket.localPort` decide which routes answer there. Call once every route is
 * registered (onApplicationBootstrap).
 */
export async function listenBeside(fastify: FastifyInstance, port: number, bind: string): Promise<Server> {
  await fastify.ready();
  const server = createServer((request, response) => fastify.routing(request, response));
  server.listen(port, bind);
  await once(server, 'listening');
  return server;
}

/** Closes such a listener and every connection it holds. */
export async function closeListener(server: Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
