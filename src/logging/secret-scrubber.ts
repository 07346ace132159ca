import type { BotConfig } from '../config/bots.js';
import type { ReceiverConfig } from '../config/load-settings.js';

/** What a secret is replaced with in output. */
export const SECRET_MARKER = '[redacted]';

/** The Bot API's alphabet for a token's secret part and a webhook secret (and base64url, the derived one's). */
const SECRET_CHARS = /^[A-Za-z0-9_-]+$/;

/**
 * Secrets at least this long are found by their first PREFIX characters: one Map lookup per
 * position of the text, however many secrets there are. Shorter ones (a weak WEBHOOK_SECRET) are
 * tried at each of their few lengths instead.
 */
const PREFIX = 8;

/** The lookup structures for one set of secrets; rebuilt on the first scrub after a change. */
interface ScrubIndex {
  readonly secrets: ReadonlySet<string>;
  /** First PREFIX characters → the lengths of the secrets starting with them, longest first. */
  readonly lengthsByPrefix: ReadonlyMap<string, readonly number[]>;
  /** Lengths of the secrets shorter than PREFIX, longest first. */
  readonly shortLengths: readonly number[];
  readonly shortest: number;
  /** Runs of secret characters at least as long as the shortest secret: only these can hold one. */
  readonly runs: RegExp;
}

/**
 * Replaces every known secret in text meant for output — log lines, CLI output — whatever code
 * produced the text: the last line of defence behind messages that never name a token. A secret is
 * found anywhere, also inside a longer word (`bot123:<half>/getMe`, `x<secret>y`).
 *
 * Made for many secrets (two per bot, 10,000 bots): one pass over the text, finding candidate runs
 * of the secret alphabet with a regular expression and looking their substrings up in a Set — not a
 * replacement per secret, and not one alternation of all of them, which V8 runs in time
 * proportional to their number. Only output pays for it, never the request path.
 *
 * Secrets are reference-counted: a WEBHOOK_SECRET shared by several bots stays scrubbed until every
 * bot that uses it is removed.
 */
export class SecretScrubber {
  private readonly references = new Map<string, number>();
  private index: ScrubIndex | undefined;

  /** Starts scrubbing these secrets. Each must be made of `A-Z a-z 0-9 _ -`, as the Bot API requires. */
  add(...secrets: string[]): void {
    for (const secret of secrets) {
      // The message names the rule, never the value.
      if (!SECRET_CHARS.test(secret)) throw new Error('a secret to scrub must be made of A-Z a-z 0-9 _ -');
      this.references.set(secret, (this.references.get(secret) ?? 0) + 1);
    }
    this.index = undefined;
  }

  /** Undoes one `add` of each of these secrets. */
  remove(...secrets: string[]): void {
    for (const secret of secrets) {
      const count = this.references.get(secret);
      if (count === undefined) continue;
      if (count > 1) this.references.set(secret, count - 1);
      else this.references.delete(secret);
    }
    this.index = undefined;
  }

  /** How many distinct secrets are scrubbed. */
  get size(): number {
    return this.references.size;
  }

  /** The text with each known secret replaced by {@link SECRET_MARKER}. */
  scrub(text: string): string {
    if (this.references.size === 0) return text;
    const index = (this.index ??= buildIndex(this.references.keys()));
    return text.replace(index.runs, (run) => scrubRun(run, index));
  }

  /**
   * A serialized JSON log line, scrubbed and still valid JSON (pino's `streamWrite` hook must
   * return that). A secret inside a string value becomes the marker as it stands; a short secret
   * that also matched a number or an escape sequence (`\n…`) is instead scrubbed from every string
   * of the parsed line, numbers left as they are.
   */
  scrubJson(line: string): string {
    const scrubbed = this.scrub(line);
    if (scrubbed === line || isJson(scrubbed)) return scrubbed;
    try {
      const value = this.scrubStrings(JSON.parse(line));
      return JSON.stringify(value) + (line.endsWith('\n') ? '\n' : '');
    } catch {
      // Not JSON in the first place: text is all it is.
      return scrubbed;
    }
  }

  private scrubStrings(value: unknown): unknown {
    if (typeof value === 'string') return this.scrub(value);
    if (Array.isArray(value)) return value.map((item) => this.scrubStrings(item));
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [this.scrub(key), this.scrubStrings(item)]),
    );
  }
}

/** The public bot id (before the colon) stays readable, as in `123456:***`; the rest is the secret. */
export function tokenHalf(token: string): string {
  return token.slice(token.indexOf(':') + 1);
}

/**
 * What must never be output for a bot: its token's secret part (which also covers the whole token,
 * and an endpoint equal to it) and its webhook secret (set, WEBHOOK_SECRET, or derived).
 */
export function botSecrets(bot: Pick<BotConfig, 'token' | 'secret'>): string[] {
  return [tokenHalf(bot.token), bot.secret];
}

/** Every bot's secrets, WEBHOOK_SECRET even where each bot has its own, and BOTS_ENCRYPTION_KEY. */
export function configSecrets(config: ReceiverConfig): string[] {
  const secrets = config.bots.flatMap(botSecrets);
  if (config.settings.WEBHOOK_SECRET !== undefined) secrets.push(config.settings.WEBHOOK_SECRET);
  // Base64's + / = are outside the scrubber's alphabet: the runs between them are what is found.
  const key = config.settings.BOTS_ENCRYPTION_KEY;
  if (key !== undefined) secrets.push(...key.split(/[^A-Za-z0-9_-]+/).filter((part) => part.length >= 6));
  return secrets;
}

/**
 * The secrets this process knows, for every sink it writes to: the service's logs (its pino
 * loggers) and the CLI's output. Filled once the configuration is loaded — by the logging module
 * for the service, by the command for the CLI — and by whatever adds bots at run time.
 */
export const knownSecrets = new SecretScrubber();

/** pino `hooks` that scrub each serialized line of {@link knownSecrets} just before it is written. */
export const scrubbingHooks = {
  streamWrite: (line: string): string => knownSecrets.scrubJson(line),
};

function buildIndex(secrets: Iterable<string>): ScrubIndex {
  const all = new Set(secrets);
  const lengthsByPrefix = new Map<string, number[]>();
  const shortLengths = new Set<number>();
  let shortest = Infinity;
  for (const secret of all) {
    shortest = Math.min(shortest, secret.length);
    if (secret.length < PREFIX) {
      shortLengths.add(secret.length);
      continue;
    }
    const prefix = secret.slice(0, PREFIX);
    const lengths = lengthsByPrefix.get(prefix);
    if (lengths === undefined) lengthsByPrefix.set(prefix, [secret.length]);
    else if (!lengths.includes(secret.length)) lengths.push(secret.length);
  }
  const longestFirst = (a: number, b: number): number => b - a;
  for (const lengths of lengthsByPrefix.values()) lengths.sort(longestFirst);
  return {
    secrets: all,
    lengthsByPrefix,
    shortLengths: [...shortLengths].sort(longestFirst),
    shortest,
    runs: new RegExp(`[A-Za-z0-9_-]{${shortest},}`, 'g'),
  };
}

/** One run of secret characters with each secret in it replaced, leftmost and longest first. */
function scrubRun(run: string, index: ScrubIndex): string {
  let scrubbed = '';
  let copied = 0;
  for (let at = 0; at + index.shortest <= run.length;) {
    const length = secretLengthAt(run, at, index);
    if (length === 0) {
      at++;
      continue;
    }
    scrubbed += run.slice(copied, at) + SECRET_MARKER;
    at += length;
    copied = at;
  }
  return copied === 0 ? run : scrubbed + run.slice(copied);
}

/** The length of the longest secret starting at `at`, or 0. */
function secretLengthAt(run: string, at: number, index: ScrubIndex): number {
  if (at + PREFIX <= run.length) {
    const lengths = index.lengthsByPrefix.get(run.slice(at, at + PREFIX));
    if (lengths !== undefined) {
      for (const length of lengths) {
        if (at + length <= run.length && index.secrets.has(run.slice(at, at + length))) return length;
      }
    }
  }
  for (const length of index.shortLengths) {
    if (at + length <= run.length && index.secrets.has(run.slice(at, at + length))) return length;
  }
  return 0;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
