import { createHmac, randomUUID } from 'node:crypto';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { KIND_PATTERN } from '../common/update-kinds.js';
import { kafkaTopicProblem, mqttTopicProblem } from './broker-names.js';
import { endpointCollisions, endpointProblem, normaliseEndpoint } from './endpoint.js';
import {
  MAX_BOTS_FILE_BYTES,
  MAX_KINDS_PER_LIST,
  MAX_NAME_LENGTH,
  MAX_PATH_LENGTH,
  MAX_ROUTES,
  MAX_TOKEN_LENGTH,
  tooLong,
} from './limits.js';
import { readWithin, tooLargeFile } from './read-within.js';
import { SECRET_PATTERN, TOKEN_PATTERN, type Settings } from './settings.js';

/** One bot the service receives updates for, with everything derived from its token resolved. */
export interface BotConfig {
  /**
   * 1-based position among the configured bots; with `source`, how errors name a bot without its
   * token. Unique and dense, so the hot path keeps per-bot state in arrays by it.
   */
  readonly index: number;
  readonly source: string;
  readonly token: string;
  /** URL path of the webhook, without the leading slash. */
  readonly endpoint: string;
  readonly secret: string;
  readonly allowedUpdates?: readonly string[];
  readonly redisQueue?: string;
  readonly mqttTopic?: string;
  readonly kafkaTopic?: string;
  /**
   * Per-target routing for this bot, from its `routes` map: target name → the update kinds it
   * receives (`'all'`: every kind). Replaces that target's `*_TYPES` filter for this bot only;
   * targets not named keep their filter. Names are checked against the targets in use at boot.
   */
  readonly routes?: BotRoutes;
}

/** Target name → update kinds routed to it, or `'all'`. An empty set routes nothing there. */
export type BotRoutes = ReadonlyMap<string, ReadonlySet<string> | 'all'>;

/** Routes as JSON writes them, as a `routes` entry of BOTS_FILE says them: target → `all` or its kinds. */
export type PlainRoutes = Readonly<Record<string, readonly string[] | 'all'>>;

export function plainRoutes(routes: BotRoutes | undefined): PlainRoutes | undefined {
  if (routes === undefined) return undefined;
  return Object.fromEntries(
    [...routes].map(([target, kinds]) => [target, kinds === 'all' ? 'all' : [...kinds]]),
  );
}

interface BotEntry {
  token?: unknown;
  endpoint?: unknown;
  secret?: unknown;
  allowed_updates?: unknown;
  redis_queue?: unknown;
  mqtt_topic?: unknown;
  kafka_topic?: unknown;
  routes?: unknown;
}

const KNOWN_KEYS = new Set([
  'token',
  'endpoint',
  'secret',
  'allowed_updates',
  'redis_queue',
  'mqtt_topic',
  'kafka_topic',
  'routes',
]);

/** Target names as publishers declare them: `redis`, `redis-pubsub`, `amqp`, or a plug-in's own. */
const TARGET_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;

/** A key of the file as a message shows it: a key may be anything up to the file's size. */
function shownKey(key: string, quote = ''): string {
  return key.length > 64 ? `(a key of ${key.length} characters)` : `${quote}${key}${quote}`;
}

/** The first few keys, as a message shows them. */
function shownKeys(keys: readonly string[]): string {
  const shown = keys.slice(0, 5).map((key) => shownKey(key));
  return keys.length > shown.length
    ? `${shown.join(', ')} and ${keys.length - shown.length} more`
    : shown.join(', ');
}

/** Keyed one-way hash of the token: stable across replicas, reveals nothing about the token. */
function derive(label: string, token: string): string {
  return createHmac('sha256', `telegram-receiver:${label}`).update(token).digest('base64url');
}

export function resolveEndpoint(mode: string, token: string): string {
  switch (mode) {
    case 'hash':
      return derive('endpoint', token);
    case 'random':
      return randomUUID();
    case 'token':
      return token;
    default:
      return normaliseEndpoint(mode);
  }
}

export function deriveSecret(token: string): string {
  return derive('secret', token);
}

function readBotsFile(path: string, problems: string[]): BotEntry[] {
  const file = readWithin(path, MAX_BOTS_FILE_BYTES);
  if ('error' in file) {
    problems.push(`BOTS_FILE cannot be read (${file.error}): ${path}`);
    return [];
  }
  if ('tooLarge' in file) {
    problems.push(`BOTS_FILE ${tooLargeFile(file.tooLarge, MAX_BOTS_FILE_BYTES)}: ${path}`);
    return [];
  }
  const { text } = file;
  let document: unknown;
  try {
    // YAML is a superset of JSON, so one parser reads both.
    // prettyErrors sets linePos (line and column); the message it builds is not used.
    document = parseYaml(text, { prettyErrors: true });
  } catch (error) {
    // The parser's own message quotes the offending line, which may hold a token: report the
    // position and the kind of mistake only.
    problems.push(`BOTS_FILE is not valid YAML or JSON${yamlErrorPlace(error)}`);
    return [];
  }
  const list = Array.isArray(document)
    ? (document as unknown[])
    : document && typeof document === 'object' && Array.isArray((document as { bots?: unknown }).bots)
      ? (document as { bots: unknown[] }).bots
      : undefined;
  if (!list) {
    problems.push('BOTS_FILE must hold a list of bots, or an object with a "bots" list');
    return [];
  }
  return list.map((entry, i) => {
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
      problems.push(`BOTS_FILE entry ${i + 1} must be an object with at least a token`);
      return {};
    }
    return entry;
  });
}

/** ` at line 3, column 7 (BAD_INDENT)` for a YAML parse error; '' when the parser gave no place. */
function yamlErrorPlace(error: unknown): string {
  if (!(error instanceof YAMLParseError) || !error.linePos) return '';
  const { line, col } = error.linePos[0];
  return ` at line ${line}, column ${col} (${error.code})`;
}

/** A key's string, if given; `rule` says what else is wrong with it, in the words of the setting it overrides. */
function optionalString(
  value: unknown,
  where: string,
  key: string,
  problems: string[],
  rule?: (name: string, value: string) => string | undefined,
): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && value.length > 0) {
    const problem = rule?.(`${where}: ${key}`, value);
    if (problem !== undefined) problems.push(problem);
    return value;
  }
  problems.push(`${where}: ${key} must be a non-empty string`);
  return undefined;
}

/** Redis takes any key; REDIS_QUEUE_NAME's bound applies to a bot's own queue too. */
function queueNameProblem(name: string, value: string): string | undefined {
  return value.length > MAX_NAME_LENGTH ? tooLong(name, value.length, MAX_NAME_LENGTH) : undefined;
}

const KIND_LIST_RULE = 'must be a list of update kinds such as [message, callback_query]';

/** A list of update kinds (or a comma-separated string of them), or what is wrong with it. */
function kindList(value: unknown, rule: string): string[] | string {
  if (typeof value === 'string' && value.length > MAX_PATH_LENGTH) {
    return `is ${value.length} characters long; the limit is ${MAX_PATH_LENGTH}`;
  }
  const list: unknown = typeof value === 'string' ? value.split(',').map((v) => v.trim()) : value;
  if (!Array.isArray(list)) return rule;
  if (list.length > MAX_KINDS_PER_LIST) {
    return `lists ${list.length} update kinds; the limit is ${MAX_KINDS_PER_LIST}`;
  }
  return list.every((v) => typeof v === 'string' && KIND_PATTERN.test(v)) ? (list as string[]) : rule;
}

function updateTypes(value: unknown, where: string, problems: string[]): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = kindList(value, KIND_LIST_RULE);
  if (Array.isArray(list)) return list;
  problems.push(`${where}: allowed_updates ${list}`);
  return undefined;
}

/**
 * `routes: { amqp: [pre_checkout_query, shipping_query], mqtt: none, redis: all }` — each value a
 * list of update kinds (or a comma-separated string), `all`, or `none` / `[]`.
 */
function botRoutes(value: unknown, where: string, problems: string[]): BotRoutes | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push(
      `${where}: routes must map target names to update kinds, e.g. { amqp: [pre_checkout_query], mqtt: none }`,
    );
    return undefined;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_ROUTES) {
    problems.push(`${where}: routes names ${entries.length} targets; the limit is ${MAX_ROUTES}`);
    return undefined;
  }
  const routes = new Map<string, ReadonlySet<string> | 'all'>();
  for (const [target, kinds] of entries) {
    if (!TARGET_NAME_PATTERN.test(target)) {
      problems.push(
        `${where}: routes key ${shownKey(target, '"')} is not a target name such as redis, mqtt, amqp or nats`,
      );
      continue;
    }
    if (kinds === 'all') routes.set(target, 'all');
    else if (kinds === 'none') routes.set(target, new Set());
    else {
      const list = kindList(kinds, `${KIND_LIST_RULE}, all or none`);
      if (Array.isArray(list)) routes.set(target, new Set(list));
      else problems.push(`${where}: routes.${target} ${list}`);
    }
  }
  return routes;
}

/**
 * Resolves every configured bot (TELEGRAM_TOKEN first, then BOTS_FILE entries) into a `BotConfig`,
 * pushing one readable problem per mistake. Tokens never appear in a problem. On a reload,
 * `served` (token → endpoint of the bots served now) keeps a `random` endpoint where it is.
 */
export function resolveBots(
  settings: Settings,
  problems: string[],
  served?: ReadonlyMap<string, string>,
): BotConfig[] {
  const entries: Array<{ source: string; entry: BotEntry }> = [];
  if (settings.TELEGRAM_TOKEN !== undefined) {
    entries.push({ source: 'TELEGRAM_TOKEN', entry: { token: settings.TELEGRAM_TOKEN } });
  }
  if (settings.BOTS_FILE !== undefined) {
    readBotsFile(settings.BOTS_FILE, problems).forEach((entry, i) =>
      entries.push({ source: `BOTS_FILE entry ${i + 1}`, entry }),
    );
  }
  if (settings.BOTS_FILE !== undefined && entries.length === 0 && problems.length === 0) {
    problems.push('BOTS_FILE lists no bots');
  }
  return resolveBotEntries(settings, entries, problems, served);
}

/** One bot as BOTS_FILE (or the admin API) writes it: `token`, `endpoint`, `secret`, `routes`, … */
export type BotEntryInput = object;

/**
 * Resolves bot entries as BOTS_FILE writes them, each named by its `source` in problems — for the
 * file, and for bots the admin API is given, checked by the same rules in the same words.
 */
export function resolveBotEntries(
  settings: Settings,
  entries: ReadonlyArray<{ readonly source: string; readonly entry: BotEntryInput }>,
  problems: string[],
  served?: ReadonlyMap<string, string>,
): BotConfig[] {
  const bots: BotConfig[] = [];
  const byToken = new Map<string, string>();
  for (const [i, { source, entry: input }] of entries.entries()) {
    const entry = input as BotEntry;
    const unknown = Object.keys(entry).filter((key) => !KNOWN_KEYS.has(key));
    if (unknown.length > 0) {
      problems.push(`${source}: unknown key(s) ${shownKeys(unknown)}; known: ${[...KNOWN_KEYS].join(', ')}`);
    }
    const token = entry.token;
    if (typeof token === 'string' && token.length > MAX_TOKEN_LENGTH) {
      if (source !== 'TELEGRAM_TOKEN')
        problems.push(tooLong(`${source}: token`, token.length, MAX_TOKEN_LENGTH));
      continue;
    }
    if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) {
      // TELEGRAM_TOKEN itself is checked (and reported) with the other settings.
      if (source !== 'TELEGRAM_TOKEN')
        problems.push(
          `${source}: token is missing or does not look like a bot token (<digits>:<characters>)`,
        );
      continue;
    }
    const secret = optionalString(entry.secret, source, 'secret', problems) ?? settings.WEBHOOK_SECRET;
    if (secret !== undefined && !SECRET_PATTERN.test(secret)) {
      problems.push(`${source}: secret must be 1–256 characters of A-Z a-z 0-9 _ -`);
    }
    const endpointMode =
      optionalString(entry.endpoint, source, 'endpoint', problems, endpointProblem) ??
      settings.WEBHOOK_ENDPOINT;
    const endpoint =
      (endpointMode === 'random' && served?.get(token)) || resolveEndpoint(endpointMode, token);
    const previousToken = byToken.get(token);
    if (previousToken)
      problems.push(`${source}: the same bot token is already configured by ${previousToken}`);
    byToken.set(token, source);
    bots.push({
      index: i + 1,
      source,
      token,
      endpoint,
      secret: secret ?? deriveSecret(token),
      allowedUpdates:
        updateTypes(entry.allowed_updates, source, problems) ?? settings.WEBHOOK_ALLOWED_UPDATES,
      redisQueue: optionalString(entry.redis_queue, source, 'redis_queue', problems, queueNameProblem),
      mqttTopic: optionalString(entry.mqtt_topic, source, 'mqtt_topic', problems, mqttTopicProblem),
      kafkaTopic: optionalString(entry.kafka_topic, source, 'kafka_topic', problems, kafkaTopicProblem),
      routes: botRoutes(entry.routes, source, problems),
    });
  }
  problems.push(...endpointCollisions(bots));
  return bots;
}
