/**
 * What an operator watching `kubectl logs` sees: start-up lines as they happen, a Bot API that
 * cannot be reached named by setting and host, configuration mistakes one per line, and shutdown.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { freePort } from './support/brokers.js';
import { FakeBotApi } from './support/fake-bot-api.js';
import { ReceiverProcess } from './support/receiver-process.js';
import { waitUntil } from './support/wait.js';

const TOKEN = '181818:AAH_startup-logs-bot-token';

interface LogLine {
  time: number;
  level: number;
  msg: string;
}

const lines = (logs: string): LogLine[] =>
  logs
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as LogLine);

describe('start-up and shutdown logs of node dist/main.js', () => {
  it('streams start-up lines while the Bot API cannot be reached, naming TELEGRAM_API_URL and its host', async () => {
    const port = await freePort();
    const sut = ReceiverProcess.spawn({
      TELEGRAM_TOKEN: TOKEN,
      TELEGRAM_API_URL: `http://127.0.0.1:${port}`,
      TELEGRAM_RETRY_TIMEOUT_MS: '5000',
      TELEGRAM_SET_WEBHOOK: 'false',
      WEBHOOK_PORT: String(await freePort()),
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_QUEUE: 'false',
    });
    // Seen while start-up is still retrying, not all at once when it gives up.
    await waitUntil(() => sut.logs.includes('retrying in'), 10_000);
    expect(sut.running).toBe(true);
    expect(await sut.exited).toBe(1);
    const records = lines(sut.logs);
    const retries = records.filter((r) => r.msg.includes('retrying in'));
    expect(retries.length).toBeGreaterThan(1);
    expect(retries[0]?.msg).toBe(
      `getMe: TELEGRAM_API_URL http://127.0.0.1:${port} refused the connection; retrying in 0.3 s (for 5 s more: TELEGRAM_RETRY_TIMEOUT_MS)`,
    );
    // In order, each with its own time, the fatal line last.
    const times = records.map((r) => r.time);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(new Set(times).size).toBeGreaterThan(2);
    const last = records.at(-1);
    expect(last?.level).toBe(60);
    expect(last?.msg).toContain(`TELEGRAM_API_URL http://127.0.0.1:${port} refused the connection`);
    expect(sut.logs).not.toContain(TOKEN.split(':')[1]);
  });

  it('lists configuration mistakes one per line, for a person to read', async () => {
    const sut = ReceiverProcess.spawn({
      TELEGRAM_TOKEN: 'not-a-token',
      WEBHOOK_PORT: 'eighty',
      REDIS_QUEUE_MODE: 'zset',
    });
    expect(await sut.exited).toBe(1);
    const text = sut.logs.trimEnd().split('\n');
    expect(text[0]).toBe('Invalid configuration:');
    expect(text.slice(1).every((line) => line.startsWith('  - '))).toBe(true);
    expect(text.find((line) => line.includes('WEBHOOK_PORT'))).toBe('  - WEBHOOK_PORT must be an integer');
    expect(text.some((line) => line.includes('REDIS_QUEUE_MODE'))).toBe(true);
  });

  it('says when shutdown begins', async () => {
    const api = await FakeBotApi.start({
      bots: [{ token: TOKEN, id: 181818, username: 'startup_logs_bot' }],
    });
    const redis = new Redis('redis://127.0.0.1:6379');
    const queue = `test:startup-logs:${randomUUID()}`;
    try {
      const sut = await ReceiverProcess.start({
        TELEGRAM_TOKEN: TOKEN,
        TELEGRAM_API_URL: api.url,
        TELEGRAM_SET_WEBHOOK: 'false',
        TELEGRAM_DELETE_WEBHOOK: 'false',
        WEBHOOK_PORT: String(await freePort()),
        WEBHOOK_BIND: '127.0.0.1',
        REDIS_URL: 'redis://127.0.0.1:6379',
        REDIS_QUEUE_NAME: queue,
      });
      expect(await sut.stop()).toBe(0);
      const messages = lines(sut.logs).map((r) => r.msg);
      expect(messages.findIndex((m) => m.startsWith('Shutting down:'))).toBeGreaterThan(
        messages.findIndex((m) => m.startsWith('Receiving 1 bot(s)')),
      );
    } finally {
      await api.close();
      await redis.del(queue);
      redis.disconnect();
    }
  });
});
