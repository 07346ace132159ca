import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import mqtt from 'mqtt';
import { startApp, writeBotsFile } from './support/app.js';
import { freePort } from './support/brokers.js';
import { FakeBotApi, realisticUpdate } from './support/fake-bot-api.js';

const SHOP = { token: '710001:AAH_shop-bot-token', id: 710001, username: 'shop_bot' };
const HELP = { token: '710002:AAH_help-bot-token', id: 710002, username: 'help_bot' };

describe('several bots', () => {
  let api: FakeBotApi;
  let redis: Redis;

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [SHOP, HELP] });
    redis = new Redis('redis://127.0.0.1:6379');
  });
  afterAll(async () => {
    await api.close();
    redis.disconnect();
  });

  it('gives each bot its own path, secret and queue; a Redis stream entry names its bot', async () => {
    const queue = `test:bots:${randomUUID()}`;
    const shopQueue = `${queue}:shop`;
    const file = writeBotsFile(
      [
        'bots:',
        `  - token: "${SHOP.token}"`,
        '    endpoint: shop',
        '    secret: shop_secret',
        `    redis_queue: ${shopQueue}`,
        `  - token: "${HELP.token}"`,
      ].join('\n'),
    );
    const sut = await startApp({
      BOTS_FILE: file,
      TELEGRAM_API_URL: api.url,
      WEBHOOK_DOMAIN: 'bots.example.com',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_QUEUE_NAME: queue,
      REDIS_QUEUE_MODE: 'stream',
    });
    const help = sut.config.bots[1]!;
    const post = (path: string, secret: string, body: string) =>
      sut.app.inject({
        method: 'POST',
        url: `/${path}`,
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
        payload: body,
      });
    try {
      // Registered each with its own URL and secret.
      expect(api.calls('setWebhook', SHOP.token)[0]?.params).toMatchObject({
        url: 'https://bots.example.com/shop',
        secret_token: 'shop_secret',
      });
      expect(api.calls('setWebhook', HELP.token)[0]?.params).toMatchObject({
        url: `https://bots.example.com/${help.endpoint}`,
        secret_token: help.secret,
      });
      // One bot's secret does not open the other's path.
      expect((await post('shop', help.secret, JSON.stringify(realisticUpdate(1)))).statusCode).toBe(401);
      expect((await post(help.endpoint, 'shop_secret', JSON.stringify(realisticUpdate(1)))).statusCode).toBe(
        401,
      );

      const shopBody = JSON.stringify(realisticUpdate(11, { type: 'pre_checkout_query' }));
      const helpBody = JSON.stringify(realisticUpdate(11, { type: 'callback_query' }));
      expect((await post('shop', 'shop_secret', shopBody)).statusCode).toBe(200);
      // The same update_id from another bot is another update.
      expect((await post(help.endpoint, help.secret, helpBody)).statusCode).toBe(200);

      const fields = (entry: [string, string[]]) =>
        Object.fromEntries(entry[1].flatMap((v, i, all) => (i % 2 === 0 ? [[v, all[i + 1]]] : []))) as Record<
          string,
          string
        >;
      const shopEntries = await redis.xrange(shopQueue, '-', '+');
      expect(shopEntries.map(fields)).toEqual([{ bot: String(SHOP.id), update_id: '11', update: shopBody }]);
      const helpEntries = await redis.xrange(queue, '-', '+');
      expect(helpEntries.map(fields)).toEqual([{ bot: String(HELP.id), update_id: '11', update: helpBody }]);
    } finally {
      await sut.close();
      const keys = await redis.keys(`${queue}*`);
      if (keys.length > 0) await redis.del(...keys);
    }
  });

  it('with no target configured, publishes to an embedded MQTT broker that any MQTT client can read', async () => {
    const port = await freePort();
    const sut = await startApp({
      TELEGRAM_TOKEN: SHOP.token,
      TELEGRAM_API_URL: api.url,
      TELEGRAM_SET_WEBHOOK: 'false',
      WEBHOOK_ENDPOINT: 'hook',
      WEBHOOK_SECRET: 'embedded_secret',
      WEBHOOK_BIND: '127.0.0.1',
      MQTT_EMBEDDED_PORT: String(port),
    });
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`);
    try {
      const received = new Promise<[string, string]>((resolve) =>
        client.on('message', (topic, payload) => resolve([topic, payload.toString()])),
      );
      await client.subscribeAsync('telegram/#', { qos: 1 });
      const body = JSON.stringify(realisticUpdate(5, { type: 'callback_query' }));
      const response = await sut.app.inject({
        method: 'POST',
        url: '/hook',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'embedded_secret' },
        payload: body,
      });
      expect(response.statusCode).toBe(200);
      expect(await received).toEqual([`telegram/${SHOP.id}/callback_query`, body]);
      const status = await sut.app.inject({ method: 'GET', url: '/status' });
      expect(status.json()).toMatchObject({ details: { mqtt: { status: 'up' } } });
    } finally {
      await client.endAsync();
      await sut.close();
    }
  });
});
