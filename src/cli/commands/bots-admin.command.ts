import type { Command } from 'commander';
import type { BotList, BotView } from '../../admin/api/bot-admin.dto.js';
import { MAX_TOKEN_LENGTH } from '../../config/limits.js';
import { readWithin, type ReadWithin } from '../../config/read-within.js';
import { TOKEN_PATTERN } from '../../config/settings.js';
import { knownSecrets, tokenHalf } from '../../logging/secret-scrubber.js';
import { AdminClient } from '../admin-client.js';
import type { CliContext } from '../cli-context.js';
import { CliError, EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../cli.error.js';
import type { Runner } from './command-helpers.js';

export interface AddOptions {
  tokenFile: string;
  endpoint?: string;
  secretFile?: string;
  allowedUpdates?: string;
  redisQueue?: string;
  mqttTopic?: string;
  kafkaTopic?: string;
  route?: string[];
}

export interface RemoveOptions {
  dropPending?: boolean;
}

/** A token or secret file holds one short line; anything much larger is not one. */
const MAX_SECRET_FILE_BYTES = 4 * MAX_TOKEN_LENGTH;
/** The largest page GET /bots gives. */
const PAGE = 1000;

/** `bots add | remove | list`: bots added and removed while the service runs, through its admin API. */
export function botsAdminCommands(bots: Command, context: CliContext, run: Runner): void {
  bots
    .command('add')
    .description(
      'add a bot to the running service (admin API at ADMIN_URL): getMe, routed at once, webhook set',
    )
    .requiredOption(
      '--token-file <file>',
      'file holding the bot token (- for stdin); never give it as an argument',
    )
    .option('--endpoint <path>', 'webhook path: hash, random or a URL path (default WEBHOOK_ENDPOINT)')
    .option('--secret-file <file>', 'file holding the webhook secret (- for stdin; default: derived)')
    .option('--allowed-updates <kinds>', 'comma-separated update kinds, e.g. message,callback_query')
    .option('--redis-queue <name>', "this bot's Redis stream")
    .option('--mqtt-topic <topic>', "this bot's MQTT topic template")
    .option('--kafka-topic <topic>', "this bot's Kafka topic template")
    .option(
      '--route <target=kinds>',
      'route kinds to a target, e.g. redis=all, amqp=pre_checkout_query,shipping_query, mqtt=none (repeatable)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .action(run((options: AddOptions) => botsAdd(context, options)));
  bots
    .command('remove')
    .argument('<bot>', 'the bot id or @username')
    .description('stop routing a bot added at run time and delete its webhook (admin API at ADMIN_URL)')
    .option('--drop-pending', 'drop the updates waiting at Telegram')
    .action(run((bot: string, options: RemoveOptions) => botsRemove(context, bot, options)));
  bots
    .command('list')
    .description(
      'the bots the running service serves: id, username, endpoint, webhook (admin API at ADMIN_URL)',
    )
    .action(run(() => botsList(context)));
}

export async function botsAdd(context: CliContext, options: AddOptions): Promise<number> {
  if (options.tokenFile === '-' && options.secretFile === '-') {
    throw new CliError('--token-file and --secret-file cannot both be - (stdin)', EXIT_USAGE);
  }
  const client = AdminClient.fromContext(context);
  const token = await readSecretFile(context, '--token-file', options.tokenFile);
  // From here on, whatever is printed is scrubbed of them (an echoed error, say).
  knownSecrets.add(TOKEN_PATTERN.test(token) ? tokenHalf(token) : token);
  const secret =
    options.secretFile === undefined
      ? undefined
      : await readSecretFile(context, '--secret-file', options.secretFile);
  if (secret !== undefined) knownSecrets.add(secret);
  const body = {
    token,
    endpoint: options.endpoint,
    secret,
    allowed_updates: options.allowedUpdates === undefined ? undefined : splitList(options.allowedUpdates),
    redis_queue: options.redisQueue,
    mqtt_topic: options.mqttTopic,
    kafka_topic: options.kafkaTopic,
    routes: options.route === undefined ? undefined : parseRoutes(options.route),
  };
  const bot = await client.request<BotView>('POST', '/bots', body);
  context.output.line(`✓ added ${botName(bot)}, id ${bot.id}`);
  context.output.line(`    endpoint: ${bot.endpoint ?? '(the token)'}`);
  context.output.line(
    `    webhook: ${bot.webhook_url ?? 'not managed by the service'} (${webhookState(bot)})`,
  );
  return EXIT_OK;
}

export async function botsRemove(
  context: CliContext,
  selector: string,
  options: RemoveOptions,
): Promise<number> {
  const id = /^\d+$/.test(selector) ? Number(selector) : undefined;
  const username = /^@?[A-Za-z][A-Za-z0-9_]{0,63}$/.test(selector) ? selector.replace(/^@/, '') : undefined;
  if (id === undefined && username === undefined) {
    // A value that looks like a token is not echoed back.
    const shown = TOKEN_PATTERN.test(selector) || selector.length > 64 ? 'that value' : `"${selector}"`;
    throw new CliError(`bots remove takes a bot id or @username, not ${shown}`, EXIT_USAGE);
  }
  const client = AdminClient.fromContext(context);
  let bot: Pick<BotView, 'id' | 'username'> | undefined;
  if (id !== undefined) bot = { id };
  else {
    const wanted = username?.toLowerCase();
    bot = (await allBots(client)).find((b) => b.username?.toLowerCase() === wanted);
    if (!bot) throw new CliError(`no bot the service serves is @${username}`, EXIT_FAILED);
  }
  const dropPending = options.dropPending === true;
  await client.request('DELETE', `/bots/${bot.id}?drop_pending=${dropPending}`);
  context.output.line(
    `✓ removed ${bot.username ? `@${bot.username}, id ${bot.id}` : `bot ${bot.id}`}: no longer routed, ` +
      `webhook deleted (pending updates ${dropPending ? 'dropped' : 'kept'})`,
  );
  return EXIT_OK;
}

export async function botsList(context: CliContext): Promise<number> {
  const bots = await allBots(AdminClient.fromContext(context));
  const { output } = context;
  if (bots.length === 0) {
    output.line('The service serves no bot.');
    return EXIT_OK;
  }
  const rows = [
    ['ID', 'USERNAME', 'ENDPOINT', 'SOURCE', 'WEBHOOK'],
    ...bots.map((bot) => [
      String(bot.id),
      bot.username ? `@${bot.username}` : '-',
      bot.endpoint ?? '(the token)',
      bot.source,
      webhookState(bot),
    ]),
  ];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  for (const row of rows) {
    output.line(
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join('  '),
    );
  }
  return EXIT_OK;
}

/** Every bot, page after page (GET /bots is paged). */
async function allBots(client: AdminClient): Promise<BotView[]> {
  const bots: BotView[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await client.request<BotList>('GET', `/bots?offset=${offset}&limit=${PAGE}`);
    bots.push(...page.bots);
    if (page.bots.length === 0 || offset + page.bots.length >= page.total) return bots;
  }
}

/** A token or secret from a file, or stdin with `-`: one line, surrounding whitespace dropped. */
async function readSecretFile(context: CliContext, flag: string, file: string): Promise<string> {
  const where = file === '-' ? `${flag} - (stdin)` : `${flag} ${file}`;
  const read =
    file === '-' ? await readStdin(context, MAX_SECRET_FILE_BYTES) : readWithin(file, MAX_SECRET_FILE_BYTES);
  if ('error' in read) throw new CliError(`${where} cannot be read (${read.error})`, EXIT_USAGE);
  if ('tooLarge' in read) {
    throw new CliError(
      `${where} holds more than ${MAX_SECRET_FILE_BYTES} bytes: it must hold one line`,
      EXIT_USAGE,
    );
  }
  const value = read.text.trim();
  if (value === '') throw new CliError(`${where} is empty`, EXIT_USAGE);
  if (/\s/.test(value)) throw new CliError(`${where} must hold one value on one line`, EXIT_USAGE);
  return value;
}

/**
 * stdin up to `limit` bytes. Read as a stream, not as /dev/stdin: a pipe from another program may
 * be a socket (Node's child_process makes one), which cannot be opened by path.
 */
async function readStdin(context: CliContext, limit: number): Promise<ReadWithin> {
  if (!context.stdin) return { error: 'no stdin' };
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of context.stdin) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      total += bytes.length;
      if (total > limit) return { tooLarge: undefined };
      chunks.push(bytes);
    }
  } catch (error) {
    return { error: (error as NodeJS.ErrnoException).code ?? 'error' };
  }
  return { text: Buffer.concat(chunks).toString('utf8') };
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** `--route redis=all --route amqp=a,b` → `{redis: 'all', amqp: ['a', 'b']}`, as BOTS_FILE's routes. */
function parseRoutes(values: readonly string[]): Record<string, string | string[]> {
  const routes: Record<string, string | string[]> = {};
  for (const value of values) {
    const equals = value.indexOf('=');
    const target = value.slice(0, equals).trim();
    const kinds = value.slice(equals + 1).trim();
    if (equals <= 0 || kinds === '') {
      throw new CliError(
        `--route ${value.length > 64 ? '…' : value} must be target=kinds, e.g. redis=all or amqp=pre_checkout_query,shipping_query`,
        EXIT_USAGE,
      );
    }
    routes[target] = kinds === 'all' || kinds === 'none' ? kinds : splitList(kinds);
  }
  return routes;
}

function botName(bot: Pick<BotView, 'id' | 'username'>): string {
  return bot.username ? `@${bot.username}` : `bot ${bot.id}`;
}

/** `registered, 3 pending`, `not registered: <last error>`, or `unknown` before the first check. */
function webhookState({ webhook }: Pick<BotView, 'webhook'>): string {
  if (webhook.registered === undefined) return 'unknown';
  let state = webhook.registered ? 'registered' : 'not registered';
  if (webhook.pending_update_count !== undefined) state += `, ${webhook.pending_update_count} pending`;
  if (webhook.last_error_message) state += `, last error: ${webhook.last_error_message}`;
  return state;
}
