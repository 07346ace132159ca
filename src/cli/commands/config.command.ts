import type { Command } from 'commander';
import { redactUrl } from '../../common/redact.js';
import { deriveSecret } from '../../config/bots.js';
import {
  ConfigurationError,
  loadConfig,
  SETTING_NAMES,
  type ReceiverConfig,
} from '../../config/load-settings.js';
import { Settings } from '../../config/settings.js';
import { redisMode } from '../../config/redis-settings.js';
import { NGROK_DOMAIN, resolveWebhookDomain } from '../../registration/ngrok.js';
import { loadWebhookTls, type WebhookTls } from '../../tls/webhook-tls.js';
import { readCliEnvironment, rememberSecrets, type CliContext } from '../cli-context.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../cli.error.js';
import { displaySetting, maskToken } from '../mask.js';
import { webhookPortWarning, type Runner } from './command-helpers.js';
import { errorMessage } from '../../common/error-message.js';

export interface ConfigCheckOptions {
  /** List settings at their default value too. */
  all?: boolean;
}

/** `config check`. */
export function configCommand(program: Command, context: CliContext, run: Runner): void {
  program
    .command('config')
    .description("the service's configuration")
    .command('check')
    .description('validate the settings and print the effective configuration, secrets masked')
    .option('--all', 'list settings at their default value too')
    .action(run((options: ConfigCheckOptions) => configCheck(context, options)));
}

/**
 * Validates the settings as the service does at start, then prints what it would run with. Exit
 * 2 for an invalid configuration (settings, BOTS_FILE, an unreadable certificate), 1 when the
 * service would still not start (no ngrok tunnel).
 */
export async function configCheck(context: CliContext, options: ConfigCheckOptions = {}): Promise<number> {
  const { output } = context;
  let config: ReceiverConfig;
  let tls: WebhookTls | undefined;
  try {
    config = rememberSecrets(loadConfig(readCliEnvironment(context)));
    tls = loadWebhookTls(config.settings);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    output.error(error.message);
    return EXIT_USAGE;
  }
  const { settings } = config;
  const warnings: string[] = [...(tls?.warnings ?? [])];
  let problem: string | undefined;

  output.line('Settings (secrets masked):');
  const defaults = new Settings();
  let hidden = 0;
  for (const name of SETTING_NAMES) {
    const value = settings[name as keyof Settings];
    if (!options.all && JSON.stringify(value) === JSON.stringify(defaults[name as keyof Settings])) {
      hidden++;
      continue;
    }
    output.line(`  ${name.padEnd(30)}${displaySetting(name, value)}`);
  }
  if (hidden > 0) output.line(`  … and ${hidden} more at their default (--all lists them)`);

  output.line(`Bots (${config.bots.length}):`);
  for (const bot of config.bots) {
    const endpoint = bot.endpoint === bot.token ? '<the token>' : bot.endpoint;
    const secret = bot.secret === deriveSecret(bot.token) ? 'derived from the token' : 'set';
    output.line(
      `  bot ${bot.index} (${bot.source}): token ${maskToken(bot.token)}, endpoint /${endpoint}, secret ${secret}`,
    );
    if (bot.endpoint === bot.token) {
      warnings.push(
        `bot ${bot.index} (${bot.source}): WEBHOOK_ENDPOINT=token puts the token in the URL, and in proxy logs`,
      );
    }
  }

  if (settings.TELEGRAM_MODE === 'polling') {
    output.line('Mode: polling (getUpdates); no webhook is registered');
  } else if (settings.WEBHOOK_DOMAIN !== undefined) {
    let domain: string | undefined;
    try {
      domain = await resolveWebhookDomain(settings);
    } catch (error) {
      problem = errorMessage(error);
    }
    if (domain !== undefined) {
      const via = settings.WEBHOOK_DOMAIN === NGROK_DOMAIN ? ' (from ngrok)' : '';
      output.line(`Mode: webhook at https://${domain}/<endpoint>${via}`);
      const portWarning = webhookPortWarning(domain);
      if (portWarning) warnings.push(portWarning);
    }
  } else {
    output.line('Mode: webhook, not registered by the service (TELEGRAM_SET_WEBHOOK=false)');
  }
  output.line(
    tls
      ? `HTTPS: served by the service with ${settings.WEBHOOK_CERT}` +
          (tls.selfSigned ? ' (self-signed: uploaded to Telegram with setWebhook)' : '') +
          `, valid until ${new Date(tls.certificate.validTo).toISOString()}`
      : `HTTP: plain on ${settings.WEBHOOK_BIND}:${settings.WEBHOOK_PORT}; TLS must end in front of it (proxy, ingress, ngrok)`,
  );
  output.line(`Bot API: ${redactUrl(settings.TELEGRAM_API_URL)}`);
  if (
    !redisMode(settings) &&
    !settings.MQTT_URL &&
    !settings.AMQP_URL &&
    !settings.NATS_URL &&
    !settings.KAFKA_BROKERS
  ) {
    warnings.push(
      'no REDIS_URL, MQTT_URL, AMQP_URL, NATS_URL or KAFKA_BROKERS: updates go to an embedded MQTT broker and live in memory only',
    );
  }

  for (const warning of warnings) output.warn(warning);
  if (problem !== undefined) {
    output.error(problem);
    return EXIT_FAILED;
  }
  output.line(
    warnings.length > 0
      ? `Configuration is valid, with ${warnings.length} warning(s).`
      : 'Configuration is valid.',
  );
  return EXIT_OK;
}
