import { isIP } from 'node:net';
import { MAX_NAME_LENGTH } from './limits.js';

/** One `host:port` entry of REDIS_SENTINELS or REDIS_CLUSTER_NODES, parsed once at boot. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
  /** As written (trimmed): how `config check`, logs and `/status` name it. */
  readonly text: string;
}

const HOST_NAME =
  /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * Parses `host:port`, `1.2.3.4:port` or `[v6::addr]:port`; the port is required (Redis and Sentinel
 * have different defaults, so guessing one would connect to the wrong server). Returns the reason
 * instead of throwing; an entry is named only when short.
 */
export function parseHostPort(entry: string): HostPort | string {
  const text = entry.trim();
  const shown = text.length <= 64 ? `"${text}"` : `an entry of ${text.length} characters`;
  if (text.includes('://')) return `${shown} is not host:port (no scheme: TLS is REDIS_TLS)`;
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return `${shown} is not host:port`;
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
    if (isIP(host) !== 6) return `${shown} is not host:port (between [ ] goes an IPv6 address)`;
  } else if (host.includes(':')) {
    return `${shown} is not host:port (write an IPv6 address as [address]:port)`;
  } else if (host.length > MAX_NAME_LENGTH || (isIP(host) === 0 && !HOST_NAME.test(host))) {
    return `${shown} is not host:port (the host is not a host name or IPv4 address)`;
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    return `${shown} has no port between 1 and 65535`;
  }
  return { host, port: Number(portText), text };
}
