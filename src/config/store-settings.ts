import { redisMode } from './redis-settings.js';
import type { Settings } from './settings.js';

/** The bot store's key length: AES-256. */
export const ENCRYPTION_KEY_BYTES = 32;

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** BOTS_ENCRYPTION_KEY as bytes; undefined when it is not 32 bytes of base64 (see encryptionKeyProblem). */
export function encryptionKey(value: string): Buffer | undefined {
  if (!BASE64.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length === ENCRYPTION_KEY_BYTES ? bytes : undefined;
}

/** What is wrong with an encryption key, in words that never include it. */
export function encryptionKeyProblem(name: string, value: string): string | undefined {
  if (encryptionKey(value) !== undefined) return undefined;
  const rule = `${name} must be ${ENCRYPTION_KEY_BYTES} bytes in base64 (openssl rand -base64 32)`;
  if (!BASE64.test(value)) return `${rule}; it is not base64`;
  return `${rule}; it decodes to ${Buffer.from(value, 'base64').length} bytes`;
}

/** What is wrong with BOTS_STORE taken with the other settings. */
export function storeProblems(settings: Settings): string[] {
  if (settings.BOTS_STORE !== 'redis') return [];
  const problems: string[] = [];
  if (redisMode(settings) === undefined) {
    problems.push(
      'BOTS_STORE=redis needs a Redis to keep the bots in: REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES',
    );
  }
  if (settings.TELEGRAM_MODE === 'polling') {
    problems.push(
      'BOTS_STORE=redis works in webhook mode only: TELEGRAM_MODE=polling fetches for the bots it started with',
    );
  }
  return problems;
}
