// @ts-check
// The floor: the leanest correct receiver one could write by hand — Fastify + ioredis, the secret
// check, RPUSH of the raw body, 200 only after the write. The receiver is measured against it.
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { stopOnSigterm } from './peer.mjs';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const queue = process.env.REDIS_QUEUE_NAME ?? 'telegram_bot';
const secret = process.env.WEBHOOK_SECRET;
const app = Fastify({ bodyLimit: 1024 * 1024 });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
app.post('/hook', async (request, reply) => {
  if (request.headers['x-telegram-bot-api-secret-token'] !== secret) return reply.code(401).send();
  await redis.rpush(queue, /** @type {Buffer} */ (request.body));
  return reply.code(200).send();
});
await app.listen({ port: Number(process.env.WEBHOOK_PORT), host: '127.0.0.1' });
console.log('Receiving (floor)');
stopOnSigterm(() => app.close(), redis);
