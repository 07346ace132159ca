import { EventEmitter } from 'node:events';
import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Cluster } from 'ioredis';
import type { RedisConnection } from './redis.constants.js';
import { RedisState, type RedisDescription } from './redis-state.js';

/** A connection that only emits events: a Redis (not a Cluster) or, with `cluster`, a Cluster. */
function connection(cluster = false): RedisConnection & EventEmitter {
  const emitter = new EventEmitter();
  return (cluster ? Object.assign(Object.create(Cluster.prototype), emitter) : emitter) as RedisConnection &
    EventEmitter;
}

describe('RedisState', () => {
  let error: jest.SpiedFunction<Logger['error']>;
  let log: jest.SpiedFunction<Logger['log']>;

  beforeEach(() => {
    error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  const cases: [string, boolean, RedisDescription, string][] = [
    ['a server', false, { mode: 'standalone', url: 'redis://:pw@127.0.0.1:6390' }, 'redis at 127.0.0.1:6390'],
    [
      'a Cluster',
      true,
      { mode: 'cluster', seeds: [{ host: '127.0.0.1', port: 7000, text: '127.0.0.1:7000' }] },
      'redis cluster (seeds 127.0.0.1:7000)',
    ],
  ];

  it.each(cases)(
    'logs an outage of %s once when it begins and once when it ends',
    (_, cluster, description, name) => {
      const redis = connection(cluster);
      new RedisState(redis, description);
      // The Cluster's own watch (its nodes) is on: the connection was taken for what it is.
      expect(redis.listenerCount('+node')).toBe(cluster ? 1 : 0);
      redis.emit('ready');
      expect(log).not.toHaveBeenCalled();
      redis.emit('error', new Error('connect ECONNREFUSED'));
      redis.emit('error', new Error('connect ECONNREFUSED'));
      expect(error.mock.calls.map((call) => call[0] as string)).toEqual([
        `${name} is unavailable: connect ECONNREFUSED; reconnecting`,
      ]);
      redis.emit('ready');
      redis.emit('ready');
      expect(log.mock.calls.map((call) => call[0] as string)).toEqual([`${name} is back`]);
      redis.emit('error', new Error('read ECONNRESET'));
      expect(error).toHaveBeenCalledTimes(2);
    },
  );
});
