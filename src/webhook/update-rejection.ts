import { isUtf8 } from 'node:buffer';
import { KIND_PATTERN } from '../common/update-kinds.js';
import { MAX_DEPTH } from './scan-update.js';

/**
 * Why `scanUpdate` refused a body, in a few words for the 400 answer. Only rejected bodies come
 * here, so it may take its time (JSON.parse). It never echoes the body: a kind may be 70,000
 * characters long, and a body may hold anything.
 */
export function explainRejection(body: Buffer): string {
  if (body.length === 0) return 'body is empty';
  if (!isUtf8(body)) return 'body is not valid UTF-8';
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return 'body is not valid JSON';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return 'body must be a JSON object';
  const update = value as Record<string, unknown>;
  if (typeof update.update_id !== 'number' || !Number.isSafeInteger(update.update_id))
    return 'update_id must be an integer';
  if (Object.keys(update).some((key) => key !== 'update_id' && !KIND_PATTERN.test(key)))
    return 'update kind must be a name of a-z, 0-9 and _ that starts with a letter, at most 64 characters';
  if (depthOf(body) > MAX_DEPTH) return `body nests deeper than ${MAX_DEPTH} levels`;
  return 'update_id must be written as an integer, such as 123 (not 1.0 or 1e3)';
}

/** The deepest nesting of objects and arrays in a body known to be valid JSON. */
function depthOf(body: Buffer): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}
