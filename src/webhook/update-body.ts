import type { FastifyInstance } from 'fastify';
import { scanUpdate } from './scan-update.js';
import { explainRejection } from './update-rejection.js';

/** Telegram drops single updates over 512 KiB; accept up to 1 MiB. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Marks a body that went over MAX_BODY_BYTES: the handler answers 413 without reading the rest. */
export const BODY_TOO_LARGE = Symbol('body-too-large');
export type WebhookBody = Buffer | typeof BODY_TOO_LARGE | undefined;

/** Marks the error a content-type parser gets when the client went away before its body was whole. */
export const ABORTED = Symbol('aborted');

/**
 * The webhook's only body parser (in its own Fastify context, so the app's other routes keep
 * theirs): every body is kept as the exact bytes received, so what is published is what Telegram
 * sent, never a re-serialisation. The subnet, path, secret and announced-length checks ran before
 * the first byte is read; a body that grows past MAX_BODY_BYTES anyway (chunked, or longer than
 * announced) is not read further.
 */
export function registerRawBodyParser(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (_request, payload, done) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk);
        return;
      }
      settled = true;
      payload.off('data', onData);
      payload.pause();
      done(null, BODY_TOO_LARGE);
    };
    payload.on('data', onData);
    payload.on('end', () => {
      if (settled) return;
      settled = true;
      done(null, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    });
    payload.on('error', () => {
      if (settled) return;
      settled = true;
      done(
        Object.assign(new Error('the client closed the connection before its body was received'), {
          [ABORTED]: true,
        }),
        undefined,
      );
    });
  });
}

export interface ParsedUpdate {
  updateId: number;
  type: string;
}

/**
 * Checks that a body is an update: valid UTF-8, a JSON object, `update_id` an integer literal, and
 * every other top-level key a kind name (KIND_PATTERN) — the first of them is the update's kind
 * (unknown kinds pass through untouched). Returns a short reason otherwise.
 */
export function parseUpdate(body: Buffer): ParsedUpdate | string {
  // One pass over the bytes decides; only a rejected body is looked at again, to say why.
  return scanUpdate(body) ?? explainRejection(body);
}
