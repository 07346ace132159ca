import type { Command } from 'commander';
import { redactUrl } from '../../common/redact.js';
import type { BotConfig } from '../../config/bots.js';
import { TelegramApiError } from '../../telegram/telegram-api.error.js';
import type { BotUser, WebhookInfo } from '../../telegram/telegram.types.js';
import { loadCliConfig, telegramServices, type CliContext } from '../cli-context.js';
import { EXIT_FAILED, EXIT_OK } from '../cli.error.js';
import { withoutToken } from '../mask.js';
import { botsAdminCommands } from './bots-admin.command.js';
import { describeWebhookError, type Runner } from './command-helpers.js';
import { errorMessage } from '../../common/error-message.js';

/**
 * `bots check`: getMe and getWebhookInfo for every configured bot; `bots add | remove | list`:
 * the running service's bots, through its admin API.
 */
export function botsCommand(program: Command, context: CliContext, run: Runner): void {
  const bots = program
    .command('bots')
    .description("the configured bots, and the running service's (add, remove, list: its admin API)");
  bots
    .command('check')
    .description('getMe for every configured bot: id, username, webhook URL and pending updates')
    .action(run(() => botsCheck(context)));
  botsAdminCommands(bots, context, run);
}

interface BotReport {
  readonly config: BotConfig;
  readonly me?: BotUser;
  readonly webhook?: WebhookInfo;
  readonly error?: string;
}

export async function botsCheck(context: CliContext): Promise<number> {
  // Reading only: the settings needed to register (WEBHOOK_DOMAIN) are not required.
  const config = loadCliConfig(context, { TELEGRAM_SET_WEBHOOK: 'false' });
  const { telegram } = telegramServices(config);
  const { output } = context;
  output.line(`Checking ${config.bots.length} bot(s) at ${redactUrl(config.settings.TELEGRAM_API_URL)}`);
  const reports = await Promise.all(
    config.bots.map(async (bot): Promise<BotReport> => {
      try {
        const me = await telegram.getMe(bot.token);
        return { config: bot, me, webhook: await telegram.getWebhookInfo(bot.token) };
      } catch (error) {
        return { config: bot, error: describeBotError(error) };
      }
    }),
  );
  for (const { config: bot, me, webhook, error } of reports) {
    const name = `bot ${bot.index} (${bot.source})`;
    if (!me || !webhook) {
      output.line(`✗ ${name}: ${error ?? 'no answer'}`);
      continue;
    }
    output.line(`✓ ${name}: ${me.username ? `@${me.username}` : me.first_name}, id ${me.id}`);
    const url = webhook.url ? withoutToken(webhook.url, bot.token) : 'not set';
    output.line(`    webhook: ${url} (pending updates: ${webhook.pending_update_count})`);
    const lastError = describeWebhookError(webhook);
    if (lastError) output.line(`    last delivery error: ${lastError}`);
  }
  const failed = reports.filter((r) => r.error !== undefined).length;
  if (failed > 0) {
    output.error(`${failed} of ${reports.length} bot(s) failed the check`);
    return EXIT_FAILED;
  }
  output.line(`All ${reports.length} bot(s) answered.`);
  return EXIT_OK;
}

function describeBotError(error: unknown): string {
  if (error instanceof TelegramApiError && error.errorCode === 401) {
    return 'the Bot API rejected the token (401 Unauthorized): check the token';
  }
  return errorMessage(error);
}
