import { loadConfig, readEnvironment, type ReceiverConfig } from './load-settings.js';

/** The configuration of this process: `.env` (or ENV_FILE) under the process environment. */
export function configFromProcess(): ReceiverConfig {
  return loadConfig(readEnvironment(process.env));
}
