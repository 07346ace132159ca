import { plainToInstance } from 'class-transformer';
import { redactUrl } from '../common/redact.js';
import { IsString, Matches, validateSync } from '../config/class-validator.js';
import { ConfigurationError } from '../config/load-settings.js';
import { MAX_PATH_LENGTH } from '../config/limits.js';
import { ADMIN_TOKEN_PATTERN } from '../config/settings.js';
import { IsUrlWithScheme, MaxChars } from '../config/validators.js';
import { knownSecrets } from '../logging/secret-scrubber.js';
import { readCliEnvironment, type CliContext } from './cli-context.js';
import { CliError, EXIT_FAILED, EXIT_USAGE } from './cli.error.js';

/**
 * The CLI's side of the admin API: where it is and the bearer token it takes. These are client
 * settings (the service listens on ADMIN_PORT; the CLI may run elsewhere, through a port-forward),
 * so they are read here, from the same environment and .env as every other setting, and not by
 * the service's validation, which would also demand a bot and a target the CLI does not need.
 */
class AdminClientSettings {
  @IsUrlWithScheme(['http:', 'https:'])
  @IsString({
    message:
      "ADMIN_URL is required for this command: the service's admin API, e.g. http://127.0.0.1:8081 (its ADMIN_BIND and ADMIN_PORT)",
  })
  ADMIN_URL!: string;

  @Matches(ADMIN_TOKEN_PATTERN, {
    message: 'ADMIN_TOKEN must be 32–256 characters of A-Z a-z 0-9 _ - (the one the service was given)',
  })
  @MaxChars(MAX_PATH_LENGTH)
  @IsString({ message: "ADMIN_TOKEN is required for this command: the admin API's bearer token" })
  ADMIN_TOKEN!: string;
}

/**
 * How long one request may take. Adding a bot waits for getMe and setWebhook, each retried by
 * the service on 429 or a network error, so this is generous; it only ends a hung connection.
 */
const REQUEST_TIMEOUT_MS = 60_000;

/** An error answer as the admin API writes it. */
interface ApiError {
  readonly statusCode: number;
  readonly message: string;
}

/**
 * Requests to the admin API. Every failure is a CliError whose message never holds a request
 * body (which carries a token) or the bearer token: an error answer is shown as
 * `<status> <message>`, a transport failure names ADMIN_URL and its host.
 */
export class AdminClient {
  private readonly base: URL;

  private constructor(
    url: string,
    private readonly token: string,
  ) {
    // A base with a path (behind a proxy: https://ops.example.com/receiver) keeps it.
    this.base = new URL(url.endsWith('/') ? url : `${url}/`);
  }

  /** From ADMIN_URL and ADMIN_TOKEN; a missing or invalid one ends the command (exit 2). */
  static fromContext(context: CliContext): AdminClient {
    const env = readCliEnvironment(context);
    const raw: Record<string, string> = {};
    for (const name of ['ADMIN_URL', 'ADMIN_TOKEN'] as const) {
      const value = env[name];
      if (value !== undefined && value.trim() !== '') raw[name] = value.trim();
    }
    const settings = plainToInstance(AdminClientSettings, raw);
    const problems = validateSync(settings, { stopAtFirstError: true }).flatMap((error) =>
      Object.values(error.constraints ?? {}),
    );
    if (problems.length > 0) throw new CliError(new ConfigurationError(problems).message, EXIT_USAGE);
    knownSecrets.add(settings.ADMIN_TOKEN);
    return new AdminClient(settings.ADMIN_URL, settings.ADMIN_TOKEN);
  }

  /**
   * The answer's JSON (undefined for 204), or a CliError. For a collection path (`/bots`), which
   * the admin API always has, a 404 means ADMIN_URL is another server: the message says so.
   */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(path.replace(/^\//, ''), this.base);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new CliError(this.unreachable(error), EXIT_FAILED);
    }
    const text = await response.text().catch(() => '');
    if (!response.ok) {
      const error = answerError(response, text);
      if (response.status === 404 && /^\/bots(\?|$)/.test(path)) {
        error.message += ` (${method} /bots is not there: is ADMIN_URL the admin API's address, on ADMIN_PORT, not the webhook port?)`;
      }
      throw error;
    }
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(
        `${response.status} from ADMIN_URL ${redactUrl(this.base.href)} is not JSON: is it the admin API (ADMIN_PORT)?`,
        EXIT_FAILED,
      );
    }
  }

  /** `cannot reach the admin API at ADMIN_URL http://127.0.0.1:9 (connection refused) …` */
  private unreachable(error: unknown): string {
    const where = `the admin API at ADMIN_URL ${redactUrl(this.base.href)}`;
    if (error instanceof Error && error.name === 'TimeoutError') {
      return `${where} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
    }
    return `cannot reach ${where} (${transportReason(error)}): is the service running with ADMIN_PORT, and is ADMIN_URL its address?`;
  }
}

/** Socket errors as a user reads them. */
const TRANSPORT_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
};

/** Node's fetch fails with `fetch failed` and the socket error as its cause. */
function transportReason(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as NodeJS.ErrnoException | undefined) : undefined;
  const code = cause?.code;
  if (code !== undefined) return TRANSPORT_REASONS[code] ?? code;
  // Without a code, fetch refused the URL itself (a port it blocks, such as 1 or 6000: "bad port").
  return cause?.message ?? (error instanceof Error ? error.message : 'request failed');
}

/**
 * `<status> <message>` from the API's `{statusCode, error, message}`. Invalid input (400) and a
 * refused ADMIN_TOKEN (401) are the caller's to fix: exit 2; anything else the API refused or
 * failed (404, 409, 422 the Bot API rejected the token, 502…): exit 1.
 */
function answerError(response: Response, text: string): CliError {
  const code = response.status === 400 || response.status === 401 ? EXIT_USAGE : EXIT_FAILED;
  const answer = parseApiError(text);
  // Another server's body is not shown: it could be anything, of any size.
  const message =
    answer?.message ?? `${response.statusText} (not the admin API's error answer: is ADMIN_URL its address?)`;
  return new CliError(`${response.status} ${message}`, code);
}

function parseApiError(text: string): ApiError | undefined {
  try {
    const value = JSON.parse(text) as Partial<Record<keyof ApiError, unknown>> | null;
    if (typeof value?.statusCode !== 'number') return undefined;
    if (typeof value.message === 'string') return { statusCode: value.statusCode, message: value.message };
    // Nest writes a list of messages in some cases.
    if (Array.isArray(value.message) && value.message.every((m) => typeof m === 'string')) {
      return { statusCode: value.statusCode, message: value.message.join('; ') };
    }
    return undefined;
  } catch {
    return undefined;
  }
}
