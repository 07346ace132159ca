import { errorMessage } from '../common/error-message.js';
import type { BotConfig } from '../config/bots.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { TOKEN_PATTERN } from '../config/settings.js';
import type { Bot } from '../bots/bot.js';
import type { BotIdentifier } from '../bots/bot-identifier.service.js';
import { CliError, EXIT_USAGE } from './cli.error.js';
import type { CliOutput } from './cli-output.js';

export interface Selection {
  /** The selected bots that getMe identified. */
  readonly bots: Bot[];
  /** How many selected bots could not be identified (already reported). */
  readonly failed: number;
}

/**
 * The bots a command applies to — every configured bot, or the one `--bot` names by webhook
 * endpoint, bot id or @username — each identified with getMe. A bot whose getMe fails is reported
 * and counted, and the command goes on with the others.
 */
export async function selectBots(
  config: ReceiverConfig,
  identifier: BotIdentifier,
  output: CliOutput,
  selector?: string,
): Promise<Selection> {
  const byEndpoint = selector === undefined ? undefined : findByEndpoint(config.bots, selector);
  const candidates = byEndpoint ? [byEndpoint] : config.bots;
  const bots: Bot[] = [];
  let failed = 0;
  for (const candidate of candidates) {
    try {
      bots.push(await identifier.identify(candidate));
    } catch (error) {
      failed++;
      output.error(errorMessage(error));
    }
  }
  if (selector === undefined || byEndpoint) return { bots, failed };
  const wanted = selector.replace(/^@/, '').toLowerCase();
  const matching = bots.filter((b) => b.idText === wanted || b.username?.toLowerCase() === wanted);
  if (matching.length === 0) {
    // A value that looks like a token is not echoed back.
    const shown = TOKEN_PATTERN.test(selector) ? 'the --bot value' : `--bot ${selector}`;
    throw new CliError(
      `No configured bot matches ${shown}: give a bot id, @username or webhook endpoint` +
        (failed > 0 ? ` (${failed} bot(s) could not be identified)` : ''),
      EXIT_USAGE,
    );
  }
  return { bots: matching, failed: 0 };
}

function findByEndpoint(bots: readonly BotConfig[], selector: string): BotConfig | undefined {
  const endpoint = selector.replace(/^\/+/, '');
  return bots.find((b) => b.endpoint === endpoint);
}
