import { existsSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { plainToInstance } from 'class-transformer';
import type { ValidationError } from 'class-validator';
import { errorMessage } from '../common/error-message.js';
import { getMetadataStorage, validateSync } from './class-validator.js';
import { adminProblems } from './admin-settings.js';
import { resolveBots, type BotConfig } from './bots.js';
import { kafkaProblems } from './kafka-settings.js';
import { MAX_ENV_FILE_BYTES } from './limits.js';
import { readWithin, tooLargeFile } from './read-within.js';
import { redisMode, redisProblems } from './redis-settings.js';
import { Settings } from './settings.js';
import { storeProblems } from './store-settings.js';

/** Thrown at boot when settings are wrong; the message lists every problem, one per line, and no secret. */
export class ConfigurationError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigurationError';
  }
}

/** The validated configuration: every setting plus the bots resolved from TELEGRAM_TOKEN / BOTS_FILE. */
export interface ReceiverConfig {
  readonly settings: Settings;
  readonly bots: readonly BotConfig[];
}

export type RawEnvironment = Record<string, string | undefined>;

/** Every setting name, read from the validation metadata so the list cannot drift from the class. */
export const SETTING_NAMES: readonly string[] = [
  ...new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(Settings, '', true, false)
      .map((m) => m.propertyName),
  ),
];

/**
 * Merges the env file (`ENV_FILE`, default `.env`; a missing file is fine) under the process
 * environment: a variable set in the environment wins over the file.
 */
export function readEnvironment(env: RawEnvironment): RawEnvironment {
  const file = env.ENV_FILE || '.env';
  if (!existsSync(file)) return { ...env };
  const read = readWithin(file, MAX_ENV_FILE_BYTES);
  if ('error' in read) throw new ConfigurationError([`ENV_FILE ${file} cannot be read (${read.error})`]);
  if ('tooLarge' in read) {
    throw new ConfigurationError([`ENV_FILE ${file} ${tooLargeFile(read.tooLarge, MAX_ENV_FILE_BYTES)}`]);
  }
  let parsed: Record<string, string>;
  try {
    parsed = parseEnv(read.text) as Record<string, string>;
  } catch (error) {
    throw new ConfigurationError([`ENV_FILE ${file} cannot be read: ${errorMessage(error)}`]);
  }
  return { ...parsed, ...env };
}

function flatten(errors: ValidationError[]): string[] {
  return errors.flatMap((error) => [
    ...Object.values(error.constraints ?? {}),
    ...flatten(error.children ?? []),
  ]);
}

/** Validates settings from a raw environment and resolves the bots; throws one ConfigurationError listing every problem. */
export function loadConfig(env: RawEnvironment): ReceiverConfig {
  const raw: Record<string, string> = {};
  for (const name of SETTING_NAMES) {
    const value = env[name];
    // An empty variable means "unset", as in most twelve-factor services.
    if (value !== undefined && value.trim() !== '') raw[name] = value;
  }
  const settings = plainToInstance(Settings, raw);
  const errors = validateSync(settings, { forbidUnknownValues: true, stopAtFirstError: true });
  const problems = flatten(errors);
  if (settings.REDIS_PUBSUB && !redisMode(settings)) {
    problems.push('REDIS_PUBSUB=true needs a Redis: REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES');
  }
  // A BOTS_FILE refused by its own check (a path of megabytes, say) is not opened.
  const bots = errors.some((e) => e.property === 'BOTS_FILE') ? [] : resolveBots(settings, problems);
  problems.push(...redisProblems(settings, bots));
  if (settings.OPS_PORT !== undefined && settings.OPS_PORT === settings.WEBHOOK_PORT) {
    problems.push(
      'OPS_PORT must differ from WEBHOOK_PORT: it is the internal listener for /status and /metrics',
    );
  }
  problems.push(...kafkaProblems(settings, new Set(errors.map((e) => e.property))));
  problems.push(...adminProblems(settings, bots));
  problems.push(...storeProblems(settings));
  if (problems.length > 0) throw new ConfigurationError(problems);
  return { settings, bots };
}
