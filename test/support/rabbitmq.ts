/**
 * A private RabbitMQ node on free loopback ports, for outage tests that stop and restart the
 * broker. It is a second node (own node name, AMQP and distribution ports, data, logs, cookie) next
 * to the shared one on 5672, which is never touched: this node is stopped by its own pid only.
 * Starting takes about 7 s, restarting with the same data as long again.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startWithFreshPort, type PrivateBroker } from './brokers.js';

const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';

/** A private RabbitMQ node (guest/guest on 127.0.0.1); url amqp://guest:guest@127.0.0.1:N */
export async function startPrivateRabbitMq(): Promise<PrivateBroker> {
  if (!existsSync(SERVER)) {
    throw new Error(`${SERVER} not found: install RabbitMQ (apt-get install rabbitmq-server)`);
  }
  return startWithFreshPort('rabbitmq', async (port, dir) => {
    // Erlang distribution port (rabbitmqctl's): its own free port, not port+20000, which may not exist.
    let distPort = await freePort();
    while (distPort === port) distPort = await freePort();
    writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
    return {
      url: `amqp://guest:guest@127.0.0.1:${port}`,
      command: SERVER,
      args: [],
      startTimeoutMs: 40_000,
      // A clean stop of the Erlang VM can take several seconds; its data must survive restart().
      killAfterMs: 10_000,
      env: {
        ...process.env,
        // A private cookie, config and plugin list: nothing of the shared node's /etc/rabbitmq.
        HOME: dir,
        RABBITMQ_NODENAME: `rt${port}@localhost`,
        RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
        RABBITMQ_NODE_PORT: String(port),
        RABBITMQ_DIST_PORT: String(distPort),
        RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
        RABBITMQ_LOG_BASE: join(dir, 'log'),
        RABBITMQ_PID_FILE: join(dir, 'pid'),
        RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'),
        RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
        RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
        RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
        // Makes the start script exec the Erlang VM instead of keeping a shell in front of it, so
        // the pid is the broker's, SIGTERM stops it cleanly and the parent-death signal reaches it.
        RUNNING_UNDER_SYSTEMD: 'true',
      },
    };
  });
}
