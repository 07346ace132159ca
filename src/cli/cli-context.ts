import {
  ConfigurationError,
  loadConfig,
  readEnvironment,
  type RawEnvironment,
  type ReceiverConfig,
} from '../config/load-settings.js';
import { configSecrets, knownSecrets } from '../logging/secret-scrubber.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { BotIdentifier } from '../bots/bot-identifier.service.js';
import { BotRegistry } from '../bots/bot-registry.service.js';
import { WebhookRegistrar } from '../registration/webhook-registrar.service.js';
import { WebhookStates } from '../registration/webhook-states.js';
import { TelegramClient } from '../telegram/telegram.client.js';
import { CliError, EXIT_USAGE } from './cli.error.js';
import type { CliOutput } from './cli-output.js';

/** What every command runs with: the environment it reads settings from, and where it writes. */
export interface CliContext {
  /** The process environment (the bin entry passes `process.env`; tests pass their own). */
  readonly env: RawEnvironment;
  readonly output: CliOutput;
  /** Where `-` reads from (`--token-file -`): the process's stdin; absent, `-` is refused. */
  readonly stdin?: AsyncIterable<Buffer | string>;
}

/**
 * The service's own validated configuration (environment over ENV_FILE), with `overrides` for
 * settings a flag sets. An invalid configuration ends the command with every problem listed.
 */
export function loadCliConfig(context: CliContext, overrides: RawEnvironment = {}): ReceiverConfig {
  try {
    // A command serves no metrics: the counters the shared services touch stay off.
    return rememberSecrets(
      loadConfig(readEnvironment({ ...context.env, ...overrides, METRICS_ENABLED: 'false' })),
    );
  } catch (error) {
    if (error instanceof ConfigurationError) throw new CliError(error.message, EXIT_USAGE);
    throw error;
  }
}

/**
 * From here on the process's output (`processOutput`) is scrubbed of this configuration's tokens
 * and secrets. Every command that loads a configuration passes it through here.
 */
export function rememberSecrets(config: ReceiverConfig): ReceiverConfig {
  knownSecrets.add(...configSecrets(config));
  return config;
}

/** The raw settings (environment over ENV_FILE) for commands that need a few values, not a valid whole. */
export function readCliEnvironment(context: CliContext): RawEnvironment {
  try {
    return readEnvironment(context.env);
  } catch (error) {
    if (error instanceof ConfigurationError) throw new CliError(error.message, EXIT_USAGE);
    throw error;
  }
}

export interface TelegramServices {
  readonly telegram: TelegramClient;
  readonly identifier: BotIdentifier;
  readonly registrar: WebhookRegistrar;
}

/**
 * The service's Telegram client, bot identifier and webhook registrar, built directly rather than
 * in a Nest context: as providers their lifecycle hooks would identify every bot and register
 * every webhook at init, which is exactly what a command like `webhook info` must not do. Only
 * their explicit steps (identify, prepare, register, webhookUrl) are used.
 */
export function telegramServices(config: ReceiverConfig): TelegramServices {
  const telegram = new TelegramClient(config);
  const registry = new BotRegistry();
  return {
    telegram,
    identifier: new BotIdentifier(config, telegram, registry),
    registrar: new WebhookRegistrar(
      config,
      telegram,
      registry,
      new WebhookStates(new MetricsService(config)),
    ),
  };
}
