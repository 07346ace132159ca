// @ts-check
// A peer: what a team would write with grammY instead of this service — grammY's webhookCallback
// on Fastify, as grammY's docs show it (https://grammy.dev/guide/deployment-types: webhookCallback
// with the "fastify" adapter, secretToken checked), and a middleware that LPUSHes each update to
// Redis, so the 200 comes after the write.
import Fastify from 'fastify';
import { Bot, webhookCallback } from 'grammy';
import { Redis } from 'ioredis';
import { env, stopOnSigterm } from './peer.mjs';

const redis = new Redis(env('REDIS_URL'));
const queue = env('REDIS_QUEUE_NAME');
// getMe (bot.init, on the first update) goes to the bench's stub Bot API.
const bot = new Bot(env('TELEGRAM_TOKEN'), { client: { apiRoot: env('TELEGRAM_API_URL') } });
bot.use(async (ctx) => {
  await redis.lpush(queue, JSON.stringify(ctx.update));
});
const app = Fastify();
app.post('/hook', webhookCallback(bot, 'fastify', { secretToken: env('WEBHOOK_SECRET') }));
await app.listen({ port: Number(env('WEBHOOK_PORT')), host: '127.0.0.1' });
console.log('Receiving (grammY)');
stopOnSigterm(() => app.close(), redis);
