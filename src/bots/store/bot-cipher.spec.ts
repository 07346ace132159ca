import { randomBytes } from 'node:crypto';
import { BotCipher, BotCipherError } from './bot-cipher.js';

const TOKEN = '123456:AAH_cipher-test-token';

describe('BotCipher', () => {
  const sut = new BotCipher(randomBytes(32));

  it('round-trips, with a new IV each time and nothing of the plain text in the stored value', () => {
    const first = sut.encrypt(TOKEN, '1:token');
    const second = sut.encrypt(TOKEN, '1:token');
    expect(first).not.toBe(second);
    expect(first).not.toContain('AAH_cipher');
    expect(first).not.toContain('123456');
    expect(sut.decrypt(first, '1:token')).toBe(TOKEN);
    expect(sut.decrypt(second, '1:token')).toBe(TOKEN);
  });

  it('refuses with another key, naming BOTS_ENCRYPTION_KEY', () => {
    const stored = sut.encrypt(TOKEN, '1:token');
    const other = new BotCipher(randomBytes(32));
    expect(() => other.decrypt(stored, '1:token')).toThrow(BotCipherError);
    expect(() => other.decrypt(stored, '1:token')).toThrow(
      'cannot decrypt the stored bots: BOTS_ENCRYPTION_KEY is not the key they were stored with',
    );
  });

  it('refuses a tampered value, a value moved to another bot or field, and a value not its own', () => {
    const stored = sut.encrypt(TOKEN, '1:token');
    const bytes = Buffer.from(stored.slice(3), 'base64url');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    expect(() => sut.decrypt(`v1:${bytes.toString('base64url')}`, '1:token')).toThrow(BotCipherError);
    expect(() => sut.decrypt(stored, '2:token')).toThrow(BotCipherError);
    expect(() => sut.decrypt(stored, '1:secret')).toThrow(BotCipherError);
    expect(() => sut.decrypt(TOKEN, '1:token')).toThrow(BotCipherError);
    expect(() => sut.decrypt('v1:AAAA', '1:token')).toThrow(BotCipherError);
  });
});
