/**
 * Runs the example worker from the environment:
 *
 *   TELEGRAM_TOKEN=123:abc[,456:def] TELEGRAM_API_URL=https://api.telegram.org \
 *   REDIS_URL=redis://127.0.0.1:6379 REDIS_QUEUE_NAME=telegram_bot \
 *   MQTT_URL=mqtt://127.0.0.1:1883 MQTT_TOPIC_PREFIX=telegram \
 *   KAFKA_BROKERS=127.0.0.1:9092 KAFKA_TOPIC_PREFIX=telegram \
 *   node examples/consumer/dist/main.js        (after: npx tsc -p examples/consumer)
 *
 * Set any of REDIS_URL, MQTT_URL and KAFKA_BROKERS; the receiver must use REDIS_QUEUE_MODE=stream
 * for Redis. With Kafka the worker reads every `<KAFKA_TOPIC_PREFIX>.<bot id>` topic (the receiver's
 * default KAFKA_TOPIC=telegram.{bot}).
 */
import { start } from './worker.js';

const env = process.env;
const tokens = (env.TELEGRAM_TOKEN ?? '')
  .split(',')
  .map((token) => token.trim())
  .filter(Boolean);
if (tokens.length === 0 || (!env.REDIS_URL && !env.MQTT_URL && !env.KAFKA_BROKERS)) {
  console.error(
    'Set TELEGRAM_TOKEN (comma-separated for several bots) and any of REDIS_URL, MQTT_URL, KAFKA_BROKERS',
  );
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
  kafka: env.KAFKA_BROKERS
    ? {
        brokers: env.KAFKA_BROKERS.split(',').map((broker) => broker.trim()),
        topics: [
          new RegExp(
            `^${(env.KAFKA_TOPIC_PREFIX ?? 'telegram').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.\\d+$`,
          ),
        ],
        groupId: env.WORKER_GROUP,
      }
    : undefined,
});
console.log('Worker running; Ctrl-C to stop');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void worker.close().then(() => process.exit(0));
  });
}
