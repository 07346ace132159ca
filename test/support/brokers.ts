/**
 * Private broker instances (Redis, Mosquitto, NATS) on free loopback ports, for outage tests that stop
 * and restart a broker. The shared instances on 6379/1883/5672/4222 are never touched: each private
 * broker is a child process of the test worker, stopped by its pid only.
 *
 * Cleanup when a test forgets `stop()`:
 * - on Linux each broker is started through `setpriv --pdeathsig KILL`, so the kernel kills it when
 *   the Jest worker dies, however it dies;
 * - inside Jest, an `afterAll` registered by this module stops every broker the test file started
 *   (Jest gives test code a copy of `process` whose 'exit' event never fires, so an exit handler alone
 *   would not run there);
 * - outside Jest (scripts, benchmarks), a `process.on('exit')` handler kills them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from '../../scripts/free-port.js';
import { waitUntil } from './wait.js';

export interface PrivateBroker {
  port: number;
  url: string;
  /** pid of the current process; changes on every start. */
  pid: number;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. No-op when stopped. */
  stop(): Promise<void>;
  /** stop then start again on the same port */
  restart(): Promise<void>;
  /** Starts again on the same port (after stop()); resolves when the port accepts connections. */
  start(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const KILL_AFTER_MS = 5_000;
/** Attempts with a fresh port when a first start fails (another process may grab a port freePort() returned). */
const START_ATTEMPTS = 3;

// The one freePort of the tests, the demo and the bench.
export { freePort };

/** Resolves once 127.0.0.1:port accepts a TCP connection; rejects after `timeoutMs`. */
export function waitForPort(port: number, timeoutMs = START_TIMEOUT_MS): Promise<void> {
  return pollPort(port, timeoutMs, () => undefined);
}

/** Whether 127.0.0.1:port accepts a TCP connection right now (false on ECONNREFUSED and other errors). */
export function isPortOpen(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const done = (open: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(open);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Options of the broker starters. */
export interface PrivateBrokerOptions {
  /**
   * Keep data across stop()/start()/restart() (in the broker's private directory), as a production
   * broker would: Redis with an fsync'ed append-only file, Mosquitto with its persistence database
   * (retained messages, persistent sessions and their queued QoS 1/2 messages). Default false.
   */
  persistent?: boolean;
}

/**
 * redis-server; url redis://127.0.0.1:N. Without `persistent`: `--save "" --appendonly no`, so a
 * restart starts empty.
 */
export function startPrivateRedis(options: PrivateBrokerOptions = {}): Promise<PrivateBroker> {
  const binary = resolveBinary('redis-server', 'redis-server');
  return startWithFreshPort('redis', (port, workDir) => ({
    url: `redis://127.0.0.1:${port}`,
    command: binary,
    args: [
      ...['--port', String(port), '--bind', '127.0.0.1', '--save', ''],
      // "always": a write Redis acknowledged survives even a SIGKILL, which outage tests rely on.
      ...(options.persistent === true
        ? ['--appendonly', 'yes', '--appendfsync', 'always']
        : ['--appendonly', 'no']),
      // Foreground, and every file Redis writes goes to the private directory.
      ...['--daemonize', 'no', '--dir', workDir],
    ],
  }));
}

/** mosquitto with a generated config (anonymous); url mqtt://127.0.0.1:N */
export function startPrivateMosquitto(options: PrivateBrokerOptions = {}): Promise<PrivateBroker> {
  const binary = resolveBinary('mosquitto', 'mosquitto');
  return startWithFreshPort('mosquitto', (port, workDir) => {
    const configPath = join(workDir, 'mosquitto.conf');
    const persistence =
      options.persistent === true
        ? // Saved on a clean stop (SIGTERM) and every second in between.
          ['persistence true', `persistence_location ${workDir}/`, 'autosave_interval 1']
        : ['persistence false'];
    const config = [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      // Started as root, mosquitto switches to the "mosquitto" user, which cannot write the private
      // directory; naming the current user keeps it as is (and is ignored when not root).
      `user ${userInfo().username}`,
      ...persistence,
      // The default (1000) silently drops QoS 1 messages for a subscriber that falls behind under load.
      'max_queued_messages 0',
      'log_dest stderr',
      '',
    ];
    writeFileSync(configPath, config.join('\n'));
    return { url: `mqtt://127.0.0.1:${port}`, command: binary, args: ['-c', configPath] };
  });
}

/** nats-server with JetStream; the store directory survives restart(). url nats://127.0.0.1:N */
export function startPrivateNats(): Promise<PrivateBroker> {
  const binary = resolveBinary('nats-server', 'nats-server');
  return startWithFreshPort('nats', (port, workDir) => ({
    url: `nats://127.0.0.1:${port}`,
    command: binary,
    args: ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(workDir, 'jetstream')],
  }));
}

/**
 * nats-server with JetStream and these extra lines in its configuration file (e.g.
 * `max_payload: 4096`), for tests of what a server refuses. url nats://127.0.0.1:N
 */
export function startPrivateNatsWithConfig(extra: string[]): Promise<PrivateBroker> {
  const binary = resolveBinary('nats-server', 'nats-server');
  return startWithFreshPort('nats', (port, workDir) => {
    const configPath = join(workDir, 'nats.conf');
    const config = [
      'host: 127.0.0.1',
      `port: ${port}`,
      `jetstream { store_dir: ${JSON.stringify(join(workDir, 'jetstream'))} }`,
      ...extra,
      '',
    ];
    writeFileSync(configPath, config.join('\n'));
    return { url: `nats://127.0.0.1:${port}`, command: binary, args: ['-c', configPath] };
  });
}

/** Stops every private broker this module started and removes their directories. */
export async function stopAllPrivateBrokers(): Promise<void> {
  await Promise.all([...brokers].map((broker) => broker.stop()));
  for (const dir of workDirs) rmSync(dir, { recursive: true, force: true });
  workDirs.clear();
  brokers.clear();
}

/** How to run one private broker on the port it was given. */
export interface LaunchSpec {
  url: string;
  command: string;
  args: string[];
  /** The whole environment of the process (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** How long it may take to accept connections (default 10 s). */
  startTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL (default 5 s). */
  killAfterMs?: number;
}

const brokers = new Set<ManagedBroker>();
const workDirs = new Set<string>();

class ManagedBroker implements PrivateBroker {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private lastPid = 0;

  readonly url: string;

  constructor(
    private readonly name: string,
    readonly port: number,
    private readonly spec: LaunchSpec,
    private readonly workDir: string,
  ) {
    this.url = spec.url;
  }

  get pid(): number {
    return this.child?.pid ?? this.lastPid;
  }

  async start(): Promise<void> {
    if (this.child !== undefined) return;
    // stopAllPrivateBrokers() may have removed the directory; a late start recreates it.
    mkdirSync(this.workDir, { recursive: true });
    const logPath = join(this.workDir, `${this.name}.log`);
    // Output goes to a file rather than pipes: no open handle keeps the test process alive.
    const log = openSync(logPath, 'a');
    const [command, args] = withParentDeathSignal(this.spec.command, this.spec.args);
    let child: ChildProcess;
    try {
      child = spawn(command, args, {
        detached: false,
        stdio: ['ignore', log, log],
        cwd: this.workDir,
        env: this.spec.env ?? process.env,
      });
    } finally {
      closeSync(log);
    }
    let failure: string | undefined;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        failure ??= `exited with ${signal ?? `code ${code}`}`;
        resolve();
      });
      child.once('error', (error) => {
        failure ??= error.message;
        resolve();
      });
    });
    // A forgotten broker must not keep Jest waiting; the afterAll / exit handler / pdeathsig stop it.
    child.unref();
    this.child = child;
    if (child.pid !== undefined) this.lastPid = child.pid;
    brokers.add(this);

    try {
      await pollPort(this.port, this.spec.startTimeoutMs ?? START_TIMEOUT_MS, () => failure);
    } catch (error) {
      await this.stop();
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`private ${this.name} on port ${this.port} did not start: ${reason}\n${tail(logPath)}`);
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), this.spec.killAfterMs ?? KILL_AFTER_MS);
      await this.exited;
      clearTimeout(killer);
    } else {
      await this.exited;
    }
    this.child = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Synchronous last resort for process exit. */
  killNow(): void {
    const pid = this.child?.pid;
    if (pid === undefined || this.child?.exitCode !== null) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/**
 * Starts a private broker on a free port in a private directory of its own, trying again with
 * another port if the first is taken meanwhile. Every broker started here is stopped by its pid
 * when the test file ends (or the worker dies), never by name.
 */
export async function startWithFreshPort(
  name: string,
  prepare: (port: number, workDir: string) => LaunchSpec | Promise<LaunchSpec>,
): Promise<PrivateBroker> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt += 1) {
    const port = await freePort();
    const workDir = mkdtempSync(join(tmpdir(), `private-${name}-`));
    workDirs.add(workDir);
    const broker = new ManagedBroker(name, port, await prepare(port, workDir), workDir);
    try {
      await broker.start();
      return broker;
    } catch (error) {
      lastError = error;
      brokers.delete(broker);
      rmSync(workDir, { recursive: true, force: true });
      workDirs.delete(workDir);
    }
  }
  throw lastError;
}

/**
 * Polls 127.0.0.1:port every 50 ms until it accepts a connection. `failed()` returns a reason once
 * the process behind the port is known to be dead, which ends the wait early.
 */
async function pollPort(port: number, timeoutMs: number, failed: () => string | undefined): Promise<void> {
  const alive = (): void => {
    const reason = failed();
    if (reason !== undefined) throw new Error(reason);
  };
  await waitUntil(
    async () => {
      alive();
      return isPortOpen(port);
    },
    timeoutMs,
    50,
    `port ${port} did not accept connections`,
  );
  // The port may have opened just as the process died (or belong to someone else): check once more.
  alive();
}

/** Finds an executable on PATH or in the sbin directories Debian installs daemons into. */
function resolveBinary(name: string, debianPackage: string): string {
  const dirs = [
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/sbin',
    '/usr/local/sbin',
    '/sbin',
    '/usr/local/bin',
    '/usr/bin',
  ];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  throw new Error(
    `${name} was not found on PATH or in /usr/sbin; install it (apt-get install ${debianPackage})`,
  );
}

let setprivPath: string | null | undefined;

/**
 * Wraps the command in `setpriv --pdeathsig KILL` (util-linux) when available: the kernel then kills
 * the broker when the thread that spawned it (the Jest worker's main thread) ends. setpriv execs the
 * command, so the pid stays the broker's own.
 */
function withParentDeathSignal(command: string, args: string[]): [string, string[]] {
  if (setprivPath === undefined) {
    try {
      setprivPath = process.platform === 'linux' ? resolveBinary('setpriv', 'util-linux') : null;
    } catch {
      setprivPath = null;
    }
  }
  return setprivPath === null
    ? [command, args]
    : [setprivPath, ['--pdeathsig', 'KILL', '--', command, ...args]];
}

function tail(path: string, bytes = 2_000): string {
  try {
    const content = readFileSync(path, 'utf8');
    return content.length > bytes ? content.slice(-bytes) : content;
  } catch {
    return '(no output)';
  }
}

function killAllNow(): void {
  for (const broker of brokers) broker.killNow();
  for (const dir of workDirs) rmSync(dir, { recursive: true, force: true });
}

process.on('exit', killAllNow);

const jestAfterAll = (globalThis as { afterAll?: (fn: () => Promise<void>) => void }).afterAll;
if (typeof jestAfterAll === 'function') {
  try {
    jestAfterAll(stopAllPrivateBrokers);
  } catch {
    // Imported from inside a test (hooks cannot be added there): pdeathsig still covers cleanup.
  }
}
