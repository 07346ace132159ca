// @ts-check
// A peer: what a team would write with Telegraf instead of this service — Telegraf's webhook
// callback on node:http, as Telegraf's README shows it ("Webhooks": `createServer(await
// bot.createWebhook({ domain }))`; createWebhook calls setWebhook and returns bot.webhookCallback,
// which checks the secret token), and a middleware that LPUSHes each update to Redis, so the 200
// comes after the write.
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { Telegraf } from 'telegraf';
import { env, stopOnSigterm } from './peer.mjs';

const redis = new Redis(env('REDIS_URL'));
const queue = env('REDIS_QUEUE_NAME');
// setWebhook (here) and getMe (on the first update) go to the bench's stub Bot API.
const bot = new Telegraf(env('TELEGRAM_TOKEN'), { telegram: { apiRoot: env('TELEGRAM_API_URL') } });
bot.use(async (ctx) => {
  await redis.lpush(queue, JSON.stringify(ctx.update));
});
const webhook = await bot.createWebhook({
  domain: 'bench.example.com',
  path: '/hook',
  secret_token: env('WEBHOOK_SECRET'),
});
// The README passes `webhook` itself; node:http ignores the promise it returns either way.
const server = createServer((req, res) => void webhook(req, res));
server.listen(Number(env('WEBHOOK_PORT')), '127.0.0.1', () => console.log('Receiving (Telegraf)'));
stopOnSigterm(() => new Promise((resolve) => server.close(resolve)), redis);
