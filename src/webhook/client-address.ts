import type { FastifyRequest } from 'fastify';
import type { SubnetMatcher } from '../common/cidr.js';

/**
 * The address a request really came from. `X-Forwarded-For` is read only when the direct peer is a
 * trusted proxy; then the client is the right-most hop that is not itself a trusted proxy (every
 * hop to its left could have been written by the client).
 */
export function clientAddress(request: FastifyRequest, trustedProxies: SubnetMatcher): string | undefined {
  const peer = request.raw.socket.remoteAddress;
  if (trustedProxies.isEmpty || !trustedProxies.contains(peer)) return peer;
  const header = request.headers['x-forwarded-for'];
  if (header === undefined) return peer;
  const hops = (Array.isArray(header) ? header.join(',') : header).split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]?.trim() ?? '';
    if (hop !== '' && !trustedProxies.contains(hop)) return hop;
  }
  return hops[0]?.trim() || peer;
}
