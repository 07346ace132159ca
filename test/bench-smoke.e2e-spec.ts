import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const RUN = fileURLToPath(new URL('../bench/run.mjs', import.meta.url));

/**
 * `npm run bench` is too long and noisy for CI; this runs its smoke version (a second per run,
 * one round) so the benchmark cannot rot: every subject starts, is loaded, and the zero-loss check
 * passes. It asserts the output's shape, never a speed: the targets table is printed, met or not.
 */
describe('benchmark (smoke)', () => {
  it('runs every subject and the connection-scale runs, prints the targets, and finds no lost or doubled update', async () => {
    // autocannon, which npm ci always installs, so the smoke run is the same on every machine.
    const child = spawn(process.execPath, [RUN, '--smoke'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, BENCH_GENERATOR: 'autocannon' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect({ code, output }).toMatchObject({ code: 0 });
    // round | subject | CPU µs/update | broker µs/update | req/s | ...
    for (const subject of ['floor', 'receiver', 'receiver 50 bots', 'grammY', 'Telegraf'])
      expect(output).toMatch(new RegExp(`\\| 1 \\| ${subject} \\| \\d+\\.\\d \\| \\d+\\.\\d \\| \\d+ \\|`));
    // round | subject | connections | req/s | p50 | p99 | peak RSS | CPU | Redis | non-2xx | socket errors | check
    const scaleRow = (subject: string, connections: number): RegExp =>
      new RegExp(
        `\\| 1 \\| ${subject} \\| ${connections} \\| \\d+ \\|( [\\d.]+ \\|){5} 0 \\| 0 \\| ok \\(\\d+\\) \\|`,
      );
    for (const connections of [4, 16, 64]) expect(output).toMatch(scaleRow('receiver', connections));
    // The floor at the first and last count, beside the receiver.
    for (const connections of [4, 64]) expect(output).toMatch(scaleRow('floor', connections));
    expect(output).not.toMatch(scaleRow('floor', 16));
    expect(output).toMatch(
      /At 64 connections the floor kept [\d.]+ of its 4-connection req\/s and the receiver [\d.]+; the receiver ran at [\d.]+× the floor's req\/s there\./,
    );
    for (const target of [
      'receiver/floor CPU µs per update',
      'receiver/grammY requests/s, worst round',
      'receiver/grammY CPU µs per update, worst round',
      'receiver/Telegraf requests/s, worst round',
      'receiver/Telegraf CPU µs per update, worst round',
      '64 / 4 connections requests/s',
      'peak RSS at 64 connections (MB)',
      'non-2xx at 64 connections',
      'lost or doubled at 64 connections',
    ])
      expect(output).toMatch(
        new RegExp(`\\| ${target.replace(/[/()]/g, '\\$&')} \\| [\\d.]+ \\| [^|]+ \\| (yes|NO) \\|`),
      );
    expect(output).toContain('| zero lost or doubled updates | 1.00 | every run | yes |');
    expect(output).toMatch(/Load average \(\/proc\/loadavg\) before: [\d.]+ [\d.]+ [\d.]+/);
    expect(output).not.toContain('FAIL');
  }, 120_000);
});
