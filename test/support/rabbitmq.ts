/**
 * A private RabbitMQ node on free loopback ports, for outage tests that stop and restart the
 * broker. It is a second node (own node name, AMQP and distribution ports, data, logs, cookie) next
 * to the shared one on 5672, which is never touched: this node is stopped by its own pid only.
 * Starting takes about 7 s, restarting with the same data as long again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, isPortOpen, type PrivateBroker } from './brokers.js';

const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const START_TIMEOUT_MS = 40_000;
const KILL_AFTER_MS = 10_000;

class PrivateRabbitMq implements PrivateBroker {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private lastPid = 0;

  constructor(
    readonly port: number,
    /** Erlang distribution port (rabbitmqctl's); its own free port, not port+20000, which may not exist. */
    private readonly distPort: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child?.pid ?? this.lastPid;
  }

  async start(): Promise<void> {
    if (this.child) return;
    const log = openSync(join(this.dir, 'server.log'), 'a');
    const env = {
      ...process.env,
      // A private cookie, config and plugin list: nothing of the shared node's /etc/rabbitmq.
      HOME: this.dir,
      RABBITMQ_NODENAME: `rt${this.port}@localhost`,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.dir, 'log'),
      RABBITMQ_PID_FILE: join(this.dir, 'pid'),
      RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq'),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(this.dir, 'advanced.config'),
      RABBITMQ_CONF_ENV_FILE: join(this.dir, 'rabbitmq-env.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
      // Makes the start script exec the Erlang VM instead of keeping a shell in front of it, so
      // the pid is the broker's, SIGTERM stops it cleanly and the parent-death signal reaches it.
      RUNNING_UNDER_SYSTEMD: 'true',
    };
    let child: ChildProcess;
    try {
      child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', SERVER], {
        env,
        cwd: this.dir,
        stdio: ['ignore', log, log],
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
    child.unref();
    this.child = child;
    this.lastPid = child.pid ?? 0;
    running.add(this);
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await isPortOpen(this.port))) {
      if (failure !== undefined || Date.now() > deadline) {
        await this.stop();
        throw new Error(
          `private RabbitMQ on ${this.port} did not start: ${failure ?? 'timeout'}\n${this.logTail()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
      await this.exited;
      clearTimeout(killer);
    }
    this.child = undefined;
    running.delete(this);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  killNow(): void {
    if (this.child?.exitCode === null && this.child.pid) {
      try {
        process.kill(this.child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private logTail(): string {
    const path = join(this.dir, 'server.log');
    return existsSync(path) ? readFileSync(path, 'utf8').slice(-2000) : '(no output)';
  }
}

const running = new Set<PrivateRabbitMq>();
const created = new Set<PrivateRabbitMq>();

/** A private RabbitMQ node (guest/guest on 127.0.0.1); url amqp://guest:guest@127.0.0.1:N */
export async function startPrivateRabbitMq(): Promise<PrivateBroker> {
  if (!existsSync(SERVER)) {
    throw new Error(`${SERVER} not found: install RabbitMQ (apt-get install rabbitmq-server)`);
  }
  const port = await freePort();
  let distPort = await freePort();
  while (distPort === port) distPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'private-rabbitmq-'));
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  const broker = new PrivateRabbitMq(port, distPort, dir);
  created.add(broker);
  await broker.start();
  return broker;
}

/** Stops every private node this module started and removes its files. */
export async function stopAllPrivateRabbitMq(): Promise<void> {
  await Promise.all([...running].map((broker) => broker.stop()));
  for (const broker of created) broker.remove();
  created.clear();
}

process.on('exit', () => {
  for (const broker of running) broker.killNow();
});
const jestAfterAll = (globalThis as { afterAll?: (fn: () => Promise<void>) => void }).afterAll;
if (typeof jestAfterAll === 'function') {
  try {
    jestAfterAll(stopAllPrivateRabbitMq);
  } catch {
    // Imported from inside a test: the parent-death signal still covers cleanup.
  }
}
