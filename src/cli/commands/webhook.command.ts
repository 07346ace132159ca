import type { Command } from 'commander';
import { loadWebhookTls } from '../../tls/webhook-tls.js';
import { NGROK_DOMAIN } from '../../registration/ngrok.js';
import type { WebhookInfo } from '../../telegram/telegram.types.js';
import { selectBots } from '../bot-selection.js';
import { loadCliConfig, telegramServices, type CliContext } from '../cli-context.js';
import { CliError, EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../cli.error.js';
import { withoutToken } from '../mask.js';
import { describeWebhookError, webhookPortWarning, type Runner } from './command-helpers.js';
import { errorMessage } from '../../common/error-message.js';

export interface WebhookOptions {
  /** A bot id, @username or webhook endpoint; every configured bot when absent. */
  bot?: string;
  dropPending?: boolean;
}

/** Settings a command that only reads or removes webhooks does not need (WEBHOOK_DOMAIN). */
const NOT_REGISTERING = { TELEGRAM_SET_WEBHOOK: 'false' };

/** `webhook info | set | delete`. */
export function webhookCommand(program: Command, context: CliContext, run: Runner): void {
  const webhook = program.command('webhook').description("the bots' webhook registration at Telegram");
  const botFlag = '--bot <id|endpoint>';
  const botHelp = 'only this bot: its id, @username or webhook endpoint (default: every configured bot)';
  webhook
    .command('info')
    .description('getWebhookInfo: URL, pending updates, last delivery error')
    .option(botFlag, botHelp)
    .action(run((options: WebhookOptions) => webhookInfo(context, options)));
  webhook
    .command('set')
    .description('setWebhook as the service does at start (uploads a self-signed WEBHOOK_CERT)')
    .option(botFlag, botHelp)
    .option('--drop-pending', 'drop the updates waiting at Telegram')
    .action(run((options: WebhookOptions) => webhookSet(context, options)));
  webhook
    .command('delete')
    .description('deleteWebhook; pending updates are kept unless --drop-pending')
    .option(botFlag, botHelp)
    .option('--drop-pending', 'drop the updates waiting at Telegram')
    .action(run((options: WebhookOptions) => webhookDelete(context, options)));
}

export async function webhookInfo(context: CliContext, options: WebhookOptions): Promise<number> {
  const { output } = context;
  const config = loadCliConfig(context, NOT_REGISTERING);
  const { telegram, identifier, registrar } = telegramServices(config);
  const { bots, failed } = await selectBots(config, identifier, output, options.bot);
  let expectedUrls = false;
  if (config.settings.TELEGRAM_MODE === 'webhook' && config.settings.WEBHOOK_DOMAIN !== undefined) {
    try {
      await registrar.prepare();
      expectedUrls = true;
    } catch (error) {
      output.warn(`cannot tell which URL this configuration registers: ${errorMessage(error)}`);
    }
  }
  let errors = failed;
  for (const bot of bots) {
    let info: WebhookInfo;
    try {
      info = await telegram.getWebhookInfo(bot.token);
    } catch (error) {
      output.error(`getWebhookInfo failed for ${bot.label}: ${errorMessage(error)}`);
      errors++;
      continue;
    }
    const expected = expectedUrls ? registrar.webhookUrl(bot) : undefined;
    const comparison =
      expected === undefined
        ? ''
        : info.url === expected
          ? ' (matches this configuration)'
          : ` (this configuration registers ${withoutToken(expected, bot.token)})`;
    output.line(`${bot.label}, id ${bot.id}`);
    const rows: Array<[string, string | undefined]> = [
      ['url', (info.url ? withoutToken(info.url, bot.token) : 'not set') + comparison],
      ['custom certificate', info.has_custom_certificate ? 'yes' : 'no'],
      ['pending updates', String(info.pending_update_count)],
      ['max connections', info.max_connections?.toString()],
      ['allowed updates', info.allowed_updates?.join(', ')],
      ['ip address', info.ip_address],
      ['last delivery error', describeWebhookError(info)],
      [
        'last sync error',
        info.last_synchronization_error_date
          ? new Date(info.last_synchronization_error_date * 1000).toISOString()
          : undefined,
      ],
    ];
    for (const [name, value] of rows) {
      if (value !== undefined) output.line(`  ${`${name}:`.padEnd(21)}${value}`);
    }
  }
  return errors > 0 ? EXIT_FAILED : EXIT_OK;
}

export async function webhookSet(context: CliContext, options: WebhookOptions): Promise<number> {
  const { output } = context;
  const config = loadCliConfig(context, options.dropPending ? { WEBHOOK_DROP_PENDING_UPDATES: 'true' } : {});
  const { settings } = config;
  if (settings.TELEGRAM_MODE === 'polling') {
    throw new CliError(
      'TELEGRAM_MODE=polling: the service polls with getUpdates, which fails with 409 Conflict while a webhook is set',
      EXIT_USAGE,
    );
  }
  if (settings.WEBHOOK_DOMAIN === undefined) {
    throw new CliError('WEBHOOK_DOMAIN is required to set a webhook (the public host, or ngrok)', EXIT_USAGE);
  }
  const { identifier, registrar } = telegramServices(config);
  try {
    await registrar.prepare();
  } catch (error) {
    throw new CliError(errorMessage(error), EXIT_USAGE);
  }
  const uploads = settings.WEBHOOK_DOMAIN !== NGROK_DOMAIN && loadWebhookTls(settings)?.selfSigned === true;
  const { bots, failed } = await selectBots(config, identifier, output, options.bot);
  let errors = failed;
  let warned = false;
  for (const bot of bots) {
    const url = registrar.webhookUrl(bot);
    const warning = webhookPortWarning(new URL(url).host);
    if (warning && !warned) {
      output.warn(warning);
      warned = true;
    }
    try {
      await registrar.register(bot);
      output.line(
        `✓ webhook set for ${bot.label}: ${withoutToken(url, bot.token)}` +
          (uploads ? ' (self-signed certificate uploaded)' : '') +
          (settings.WEBHOOK_DROP_PENDING_UPDATES ? ', pending updates dropped' : ''),
      );
    } catch (error) {
      output.line(`✗ ${errorMessage(error)}`);
      errors++;
    }
  }
  return errors > 0 ? EXIT_FAILED : EXIT_OK;
}

export async function webhookDelete(context: CliContext, options: WebhookOptions): Promise<number> {
  const { output } = context;
  const config = loadCliConfig(context, NOT_REGISTERING);
  const { telegram, identifier } = telegramServices(config);
  const { bots, failed } = await selectBots(config, identifier, output, options.bot);
  const drop = options.dropPending === true;
  let errors = failed;
  for (const bot of bots) {
    try {
      await telegram.deleteWebhook(bot.token, drop);
      output.line(`✓ webhook deleted for ${bot.label}; pending updates ${drop ? 'dropped' : 'kept'}`);
    } catch (error) {
      output.line(`✗ deleteWebhook failed for ${bot.label}: ${errorMessage(error)}`);
      errors++;
    }
  }
  return errors > 0 ? EXIT_FAILED : EXIT_OK;
}
