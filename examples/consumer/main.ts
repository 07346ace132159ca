/**
 * Runs the example worker from the environment:
 *
 *   TELEGRAM_TOKEN=123:abc[,456:def] TELEGRAM_API_URL=https://api.telegram.org \
 *   REDIS_URL=redis://127.0.0.1:6379 REDIS_QUEUE_NAME=telegram_bot \
 *   MQTT_URL=mqtt://127.0.0.1:1883 MQTT_TOPIC_PREFIX=telegram \
 *   node examples/consumer/dist/main.js        (after: npx tsc -p examples/consumer)
 *
 * Set REDIS_URL, MQTT_URL or both; the receiver must use REDIS_QUEUE_MODE=stream for Redis.
 */
import { start } from './worker.js';

const env = process.env;
const tokens = (env.TELEGRAM_TOKEN ?? '')
  .split(',')
  .map((token) => token.trim())
  .filter(Boolean);
if (tokens.length === 0 || (!env.REDIS_URL && !env.MQTT_URL)) {
  console.error('Set TELEGRAM_TOKEN (comma-separated for several bots) and REDIS_URL and/or MQTT_URL');
  process.exit(2);
}

const worker = await start({
  tokens,
  telegramApiUrl: env.TELEGRAM_API_URL,
  redis: env.REDIS_URL
    ? { url: env.REDIS_URL, stream: env.REDIS_QUEUE_NAME, group: env.WORKER_GROUP, consumer: env.WORKER_NAME }
    : undefined,
  mqtt: env.MQTT_URL
    ? { url: env.MQTT_URL, topicPrefix: env.MQTT_TOPIC_PREFIX, clientId: env.WORKER_NAME }
    : undefined,
});
console.log('Worker running; Ctrl-C to stop');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void worker.close().then(() => process.exit(0));
  });
}
