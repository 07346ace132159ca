import { errorMessage } from './error-message.js';

describe('errorMessage', () => {
  it('gives the message of an Error and a readable text for anything else thrown', () => {
    expect(errorMessage(new TypeError('bad'))).toBe('bad');
    expect(errorMessage('plain text')).toBe('plain text');
    expect(errorMessage({ code: 'E1' })).toBe('{"code":"E1"}');
    expect(errorMessage(undefined)).toBe('undefined');
    expect(errorMessage(42)).toBe('42');
  });
});
