import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { waitUntil } from './wait.js';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** The built service (`node dist/main.js`) as a child process, as a user runs it. */
export class ReceiverProcess {
  private output = '';
  readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = once(child, 'exit').then(([code]) => code as number | null);
    running.add(child);
    void this.exited.then(() => running.delete(child));
  }

  /** Starts it with exactly these variables (plus PATH) and returns at once, to watch it start. */
  static spawn(env: Record<string, string>, nodeArgs: string[] = []): ReceiverProcess {
    const child = spawn(process.execPath, [...nodeArgs, MAIN], {
      env: { PATH: process.env.PATH ?? '', ENV_FILE: '/nonexistent/.env', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ReceiverProcess(child);
  }

  /** Whether it has exited yet. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Starts it with exactly these variables (plus PATH) and waits until it listens, or exits.
   * `nodeArgs` go to node before the script.
   */
  static async start(
    env: Record<string, string>,
    readyTimeoutMs = 20_000,
    nodeArgs: string[] = [],
  ): Promise<ReceiverProcess> {
    const receiver = ReceiverProcess.spawn(env, nodeArgs);
    const { child } = receiver;
    try {
      await waitUntil(
        () => receiver.output.includes('Receiving ') || child.exitCode !== null,
        readyTimeoutMs,
        25,
      );
    } catch {
      child.kill('SIGKILL');
      throw new Error(`receiver did not start in time:\n${receiver.output}`);
    }
    return receiver;
  }

  /** Everything it printed so far (stdout and stderr). */
  get logs(): string {
    return this.output;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Sends SIGTERM and resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
