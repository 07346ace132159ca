/**
 * The Nest-framework worker from the environment, answering every text message:
 *
 *   TELEGRAM_TOKEN=123:abc AMQP_URL=amqp://guest:guest@127.0.0.1:5672 node examples/consumer/dist/nest/main.js
 *   (or NATS_URL=nats://127.0.0.1:4222, or REDIS_URL=redis://127.0.0.1:6379 with the receiver's REDIS_PUBSUB=true)
 *
 * Build first: npx tsc -p examples/consumer
 */
import { botIdOf, sendMessage } from '../telegram.js';
import { startNestWorker, type NestWorkerOptions } from './worker.js';

const env = process.env;
const tokens = new Map(
  (env.TELEGRAM_TOKEN ?? '')
    .split(',')
    .filter(Boolean)
    .map((token) => [botIdOf(token.trim()), token.trim()]),
);
const options: NestWorkerOptions | undefined = env.AMQP_URL
  ? { transport: 'rmq', url: env.AMQP_URL, exchange: env.AMQP_EXCHANGE }
  : env.NATS_URL
    ? { transport: 'nats', url: env.NATS_URL }
    : env.REDIS_URL
      ? { transport: 'redis', url: env.REDIS_URL }
      : undefined;
if (!options || tokens.size === 0) {
  console.error('Set TELEGRAM_TOKEN and one of AMQP_URL, NATS_URL or REDIS_URL');
  process.exit(2);
}

const app = await startNestWorker(options, async ({ update, bot }) => {
  const token = bot === undefined ? undefined : tokens.get(bot);
  const message = update.message;
  if (!token || typeof message?.text !== 'string') return;
  await sendMessage(
    env.TELEGRAM_API_URL ?? 'https://api.telegram.org',
    token,
    message.chat.id,
    `You said: ${message.text}`,
  );
});
console.log(`Nest worker consuming over ${options.transport}; Ctrl-C to stop`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}
