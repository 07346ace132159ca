import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { RejectionLog } from './rejection-log.js';

describe('RejectionLog', () => {
  let warn: jest.SpiedFunction<Logger['warn']>;
  let debug: jest.SpiedFunction<Logger['debug']>;

  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    debug = jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('logs the first lines of a window per reason, then one line saying how many were left out', () => {
    const sut = new RejectionLog();
    for (let i = 0; i < 20_000; i++) sut.warn('secret', `line ${i}`);
    for (let i = 0; i < 3; i++) sut.debug('aborted', `aborted ${i}`);
    expect(warn.mock.calls.map((call) => call[0] as string)).toEqual([
      'line 0',
      'line 1',
      'line 2',
      'line 3',
      'line 4',
    ]);
    expect(debug).toHaveBeenCalledTimes(3);

    jest.advanceTimersByTime(10_000);
    expect(warn).toHaveBeenCalledTimes(6);
    expect(warn.mock.calls[5]?.[0]).toBe(
      'Left out 19995 more line(s) for rejected requests (secret) in 10 s; metrics count every one',
    );
    // A new window logs again.
    sut.warn('secret', 'later');
    expect(warn).toHaveBeenLastCalledWith('later');
  });

  it('starts a new window once the last one passed without lines left out', () => {
    const sut = new RejectionLog();
    for (let i = 0; i < 5; i++) sut.warn('subnet', 'first');
    jest.advanceTimersByTime(10_000);
    for (let i = 0; i < 5; i++) sut.warn('subnet', 'second');
    expect(warn).toHaveBeenCalledTimes(10);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('says at shutdown what the current window left out', () => {
    const sut = new RejectionLog();
    for (let i = 0; i < 7; i++) sut.warn('too_large', 'x');
    sut.flush();
    expect(warn).toHaveBeenLastCalledWith(
      'Left out 2 more line(s) for rejected requests (too_large) in 1 s; metrics count every one',
    );
    expect(jest.getTimerCount()).toBe(0);
  });
});
