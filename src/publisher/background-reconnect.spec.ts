import { jest } from '@jest/globals';
import { BackgroundReconnect, describeError } from './background-reconnect.js';

describe('BackgroundReconnect', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('retries once per delay, however often it is asked to, until stopped', async () => {
    const connect = jest.fn(() => Promise.reject(new Error('ECONNREFUSED')));
    const sut = new BackgroundReconnect(connect, 1000);
    sut.schedule();
    sut.schedule();
    expect(connect).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1000);
    expect(connect).toHaveBeenCalledTimes(1);
    // The client's connect() schedules again after a failure; the loop allows it.
    sut.schedule();
    await jest.advanceTimersByTimeAsync(1000);
    expect(connect).toHaveBeenCalledTimes(2);
    sut.schedule();
    sut.stop();
    sut.schedule();
    await jest.advanceTimersByTimeAsync(5000);
    expect(connect).toHaveBeenCalledTimes(2);
  });
});

describe('describeError', () => {
  it('accepts errors and bare strings, and strips credentials from URLs', () => {
    expect(describeError(new Error('connect ECONNREFUSED 127.0.0.1:5672'))).toBe(
      'connect ECONNREFUSED 127.0.0.1:5672',
    );
    expect(describeError('Error: Connection lost. Trying to reconnect...')).toBe(
      'Error: Connection lost. Trying to reconnect...',
    );
    expect(describeError(new Error('cannot reach amqp://admin:s3cret@rabbit:5672/vhost'))).toBe(
      'cannot reach amqp://rabbit:5672/vhost',
    );
    expect(describeError('nats://tok3n@nats:4222 refused')).toBe('nats://nats:4222 refused');
  });
});
