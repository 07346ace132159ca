import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** A stored value's form: version, then base64url of IV ‖ tag ‖ ciphertext. */
const PREFIX = 'v1:';

/** A stored value that this key cannot open: another key, or a value changed in Redis. */
export class BotCipherError extends Error {
  constructor() {
    super('cannot decrypt the stored bots: BOTS_ENCRYPTION_KEY is not the key they were stored with');
    this.name = 'BotCipherError';
  }
}

/**
 * AES-256-GCM for the secrets of a stored bot (its token and webhook secret): a random 12-byte IV
 * per value, and the tag checked on the way back, so a wrong key or a value changed in Redis is an
 * error, never a garbage token. `context` (the bot id and field) is authenticated data: a value
 * copied to another bot's record or field does not open there.
 */
export class BotCipher {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('BotCipher needs a 32-byte key');
  }

  encrypt(plain: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The plain text, or BotCipherError. */
  decrypt(stored: string, context: string): string {
    if (!stored.startsWith(PREFIX)) throw new BotCipherError();
    const bytes = Buffer.from(stored.slice(PREFIX.length), 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES) throw new BotCipherError();
    try {
      const decipher = createDecipheriv(ALGORITHM, this.key, bytes.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([
        decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new BotCipherError();
    }
  }
}
