#!/usr/bin/env node
import 'reflect-metadata';
import { processOutput } from './cli/cli-output.js';
import { runCli } from './cli/cli.js';

// The one place the CLI touches the process: its arguments, environment and stdin in, its exit code out.
process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  output: processOutput,
  stdin: process.stdin,
});
