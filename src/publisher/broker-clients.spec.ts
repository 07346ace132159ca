import { subjectCovers } from './nats.client.js';
import { redisUrlOptions } from './redis-pubsub.client.js';

describe('subjectCovers (NATS subject filters)', () => {
  it.each([
    ['telegram.*.*', 'telegram.*.*', true],
    ['telegram.>', 'telegram.*.*', true],
    ['>', 'telegram.*.*', true],
    ['*.*.*', 'telegram.*.*', true],
    ['telegram.*', 'telegram.*.*', false],
    ['telegram.42.*', 'telegram.*.*', false],
    ['other.>', 'telegram.*.*', false],
    ['telegram.*.*.*', 'telegram.*.*', false],
    ['telegram.>', 'telegram', false],
  ])('%s covers %s: %s', (filter, subjects, expected) => {
    expect(subjectCovers(filter, subjects)).toBe(expected);
  });
});

describe('redisUrlOptions', () => {
  it('reads host, port, credentials, database and TLS from the URL', () => {
    expect(redisUrlOptions('redis://127.0.0.1:6380')).toEqual({ host: '127.0.0.1', port: 6380 });
    expect(redisUrlOptions('rediss://app:p%40ss@redis.internal/3')).toEqual({
      host: 'redis.internal',
      port: 6379,
      username: 'app',
      password: 'p@ss',
      db: 3,
      tls: {},
    });
    expect(redisUrlOptions('redis://:secret@[::1]:6379')).toEqual({
      host: '::1',
      port: 6379,
      password: 'secret',
    });
  });
});
