import { scanUpdate } from './scan-update.js';
import type { FastifyInstance } from 'fastify';

/** Telegram drops single updates over 512 KiB; accept up to 1 MiB. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Past this the connection is not worth reading to its end: answer 413 at once. */
const HARD_LIMIT_BYTES = 8 * MAX_BODY_BYTES;

/** Marks a body that was over MAX_BODY_BYTES; the handler answers 413 after the guards ran. */
export const BODY_TOO_LARGE = Symbol('body-too-large');
export type WebhookBody = Buffer | typeof BODY_TOO_LARGE | undefined;

/**
 * Replaces Fastify's body parsers: every body is kept as the exact bytes received, so what is
 * published is what Telegram sent, never a re-serialisation. An oversized body is not rejected
 * here but marked, so the subnet and secret checks still come first.
 */
export function registerRawBodyParser(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (_request, payload, done) => {
    const chunks: Buffer[] = [];
    let size = 0;
    payload.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else if (size > HARD_LIMIT_BYTES) {
        payload.removeAllListeners('data');
        payload.resume();
        done(Object.assign(new Error('body exceeds 1 MiB'), { statusCode: 413 }), undefined);
      }
    });
    payload.on('end', () => {
      if (size > HARD_LIMIT_BYTES) return;
      done(
        null,
        size > MAX_BODY_BYTES
          ? BODY_TOO_LARGE
          : chunks.length === 1
            ? chunks[0]
            : Buffer.concat(chunks, size),
      );
    });
    payload.on('error', (error) => done(error, undefined));
  });
}

export interface ParsedUpdate {
  updateId: number;
  type: string;
}

/**
 * Checks that a body is a JSON object with an integer `update_id` and finds its kind: the one key
 * besides `update_id` (unknown kinds pass through untouched). Returns an error text otherwise.
 */
export function parseUpdate(body: Buffer): ParsedUpdate | string {
  if (body.length === 0) return 'body is empty';
  // Telegram's updates take the one-pass scan; whatever it leaves is decided by JSON.parse.
  return scanUpdate(body) ?? parseUpdateWithJson(body);
}

/** The same check with JSON.parse: what decides whatever `scanUpdate` leaves, and its reference in tests. */
export function parseUpdateWithJson(body: Buffer): ParsedUpdate | string {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return 'body is not valid JSON';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return 'body must be a JSON object';
  const update = value as Record<string, unknown>;
  const updateId = update.update_id;
  if (typeof updateId !== 'number' || !Number.isSafeInteger(updateId)) return 'update_id must be an integer';
  let type = 'unknown';
  for (const key in update) {
    if (key !== 'update_id') {
      type = key;
      break;
    }
  }
  return { updateId, type };
}
