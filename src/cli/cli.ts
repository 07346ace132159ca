import { Logger } from '@nestjs/common';
import { Command, CommanderError } from 'commander';
import { CliError, EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './cli.error.js';
import { CliLogger } from './cli-output.js';
import type { CliContext } from './cli-context.js';
import { botsCommand } from './commands/bots.command.js';
import { certCommand } from './commands/cert.command.js';
import type { Runner } from './commands/command-helpers.js';
import { configCommand } from './commands/config.command.js';
import { webhookCommand } from './commands/webhook.command.js';
import { errorMessage } from '../common/error-message.js';
import { packageVersion } from '../common/package-version.js';

/**
 * Runs one CLI command (`argv` without `node` and the script) and resolves with its exit code:
 * 0 done, 1 the operation or check failed, 2 invalid usage or configuration. Settings come from
 * `context.env` and ENV_FILE exactly as for the service.
 */
export async function runCli(argv: readonly string[], context: CliContext): Promise<number> {
  const { output } = context;
  let exitCode = EXIT_OK;
  const run: Runner =
    (body) =>
    async (...args) => {
      try {
        exitCode = await body(...args);
      } catch (error) {
        // The message only: errors of this code base never hold a token; stacks are noise here.
        output.error(errorMessage(error));
        exitCode = error instanceof CliError ? error.exitCode : EXIT_FAILED;
      }
    };

  const program = new Command('telegram-receiver')
    .version(packageVersion(), '-V, --version', 'print the version')
    .description(
      'Operator tools for telegram-receiver. Settings come from the environment and .env (ENV_FILE), as for the service.',
    )
    .exitOverride()
    .configureOutput({
      writeOut: (text) => output.line(text.trimEnd()),
      writeErr: (text) => output.stderr(text),
    })
    .showHelpAfterError('(add --help for usage)');
  // Commands created from here on inherit exitOverride and the output above.
  botsCommand(program, context, run);
  webhookCommand(program, context, run);
  configCommand(program, context, run);
  certCommand(program, context, run);
  // Retry notices of the shared Telegram client reach the user; progress logs stay quiet.
  Logger.overrideLogger(new CliLogger(output));
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    throw error;
  }
  return exitCode;
}
