import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const RUN = fileURLToPath(new URL('../bench/run.mjs', import.meta.url));

/**
 * `npm run bench` is too long and noisy for CI; this runs its smoke version (a second per run,
 * one round, no targets) so the benchmark cannot rot: every subject starts, is loaded, and the
 * zero-loss check passes.
 */
describe('benchmark (smoke)', () => {
  it('runs the floor, the receiver and the many-bots receiver and finds no lost or doubled update', async () => {
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
    expect(output).toMatch(/\| 1 \| floor \| \d+ \|/);
    expect(output).toMatch(/\| 1 \| receiver \| \d+ \|/);
    expect(output).toMatch(/\| 1 \| receiver 50 bots \| \d+ \|/);
    expect(output).toContain('| zero lost or doubled updates | 1.00 | every run | yes |');
    expect(output).not.toContain('FAIL');
  }, 120_000);
});
