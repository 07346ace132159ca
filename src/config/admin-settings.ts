import type { BotConfig } from './bots.js';
import type { Settings } from './settings.js';

/** Paths the admin API answers on: a bot there would be shadowed by it. */
export const ADMIN_PATHS: ReadonlySet<string> = new Set(['bots', 'openapi.json']);

/** What is wrong with the admin API's settings, given the bots configured at start. */
export function adminProblems(settings: Settings, bots: readonly BotConfig[]): string[] {
  const port = settings.ADMIN_PORT;
  if (port === undefined) return [];
  const problems: string[] = [];
  if (port === settings.WEBHOOK_PORT) {
    problems.push(
      'ADMIN_PORT must differ from WEBHOOK_PORT: the admin API never listens on the webhook port',
    );
  }
  if (port === settings.OPS_PORT) problems.push('ADMIN_PORT must differ from OPS_PORT');
  for (const bot of bots) {
    if (ADMIN_PATHS.has(bot.endpoint)) {
      problems.push(
        `${bot.source}: endpoint "${bot.endpoint}" is a path of the admin API (ADMIN_PORT); choose another`,
      );
    }
  }
  return problems;
}
