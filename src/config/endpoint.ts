import { describeCharacter } from './limits.js';

/** WEBHOOK_ENDPOINT (and a bot's `endpoint`) values that name a way to derive the path, not a path. */
export const ENDPOINT_MODES: ReadonlySet<string> = new Set(['hash', 'random', 'token']);

/** Longest endpoint written in a setting or BOTS_FILE, leading slash included. */
export const MAX_ENDPOINT_LENGTH = 256;

/**
 * The first character that is not `/` or one a URL carries unencoded in a path segment without it
 * meaning anything else (RFC 3986 "unreserved").
 */
const NOT_PATH_CHARACTER = /[^A-Za-z0-9._~/-]/u;

const RULE = `must be hash, random, token or a URL path: segments of A-Z a-z 0-9 . _ ~ - separated by /, at most ${MAX_ENDPOINT_LENGTH} characters`;

/**
 * The path a bot is looked up by, as the router sees a request's path: without the one leading
 * slash (`/shop` and `shop` are the same endpoint).
 */
export function normaliseEndpoint(path: string): string {
  return path.charCodeAt(0) === 47 /* / */ ? path.slice(1) : path;
}

/**
 * What is wrong with an endpoint as written in a setting (`name` says where, e.g.
 * `WEBHOOK_ENDPOINT` or `BOTS_FILE entry 3: endpoint`); undefined for a path the router will find
 * Telegram's requests at, and for ENDPOINT_MODES (their paths are made by code; `token`'s colon
 * is found all the same). setWebhook accepts any of the refused ones, but the requests never
 * match: the router drops a query (`?`), a fragment (`#`) is never sent, a space or a non-ASCII
 * character arrives percent-encoded, a `%` is ambiguous, and `.`/`..` segments are resolved —
 * 404 for ever while /status says 200. The message says what is wrong and never repeats the
 * value, which may be a pasted token.
 */
export function endpointProblem(name: string, endpoint: string): string | undefined {
  if (ENDPOINT_MODES.has(endpoint)) return undefined;
  if (endpoint.length > MAX_ENDPOINT_LENGTH) {
    return `${name} ${RULE}; it is ${endpoint.length} characters long`;
  }
  const character = NOT_PATH_CHARACTER.exec(endpoint)?.[0];
  if (character !== undefined) return `${name} ${RULE}; it contains ${describeCharacter(character)}`;
  const segments = normaliseEndpoint(endpoint).split('/');
  if (segments.includes('')) {
    return `${name} ${RULE}; it has an empty segment (a trailing or double /, or no path at all)`;
  }
  if (segments.includes('.') || segments.includes('..')) {
    return `${name} ${RULE}; it has a "." or ".." segment`;
  }
  return undefined;
}

/** A configured bot as the collision check sees it. */
export interface EndpointOwner {
  /** How messages name it, e.g. `BOTS_FILE entry 3`. */
  readonly source: string;
  readonly endpoint: string;
  readonly token: string;
}

/**
 * One problem per bot served at a path an earlier bot already has (compared as the router looks
 * them up, by `normaliseEndpoint`), naming both: the router would hand the later bot's updates
 * to the earlier one, whose secret they fail. Bots with the same token are skipped — that
 * mistake is reported as such. For start-up and for adding bots at run time alike: pass the bots
 * kept so far followed by the new ones.
 */
export function endpointCollisions(bots: readonly EndpointOwner[]): string[] {
  const problems: string[] = [];
  const owners = new Map<string, EndpointOwner>();
  for (const bot of bots) {
    const path = normaliseEndpoint(bot.endpoint);
    const owner = owners.get(path);
    if (owner === undefined) {
      owners.set(path, bot);
      continue;
    }
    if (owner.token === bot.token) continue;
    // With WEBHOOK_ENDPOINT=token a path is a token: name it without showing it.
    const shown = path === owner.token || path === bot.token ? '' : ` "${path}"`;
    problems.push(
      `${bot.source}: webhook endpoint${shown} is already used by ${owner.source}; give each bot its own endpoint (or use WEBHOOK_ENDPOINT=hash)`,
    );
  }
  return problems;
}
