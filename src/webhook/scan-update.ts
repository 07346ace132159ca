import type { ParsedUpdate } from './update-body.js';

/**
 * The fast path of `parseUpdate`: one pass over the bytes that checks the body is well-formed
 * JSON (RFC 8259) and reads the top-level `update_id` and the update's kind — without decoding
 * the body to a string or building its objects. Returns `undefined` for anything it does not
 * accept as-is (bad JSON, but also escaped top-level keys, an `update_id` written as `1.0` or
 * `1e3`, nesting deeper than MAX_DEPTH), and `parseUpdate` then decides with `JSON.parse`; so it
 * must never accept what `JSON.parse` rejects, and the unit tests hold it to that.
 *
 * Like `JSON.parse` on the UTF-8 decoding of the body, it does not check that the bytes are valid
 * UTF-8: the exact bytes are published either way.
 */
export function scanUpdate(b: Uint8Array): ParsedUpdate | undefined {
  const n = b.length;
  let i = skipSpace(b, 0);
  if (b[i] !== OPEN_OBJECT) return undefined;
  i = skipSpace(b, i + 1);
  let updateId: number | undefined;
  let type: string | undefined;
  if (b[i] === CLOSE_OBJECT) i++;
  else
    for (;;) {
      if (b[i] !== QUOTE) return undefined;
      const keyStart = i + 1;
      const keyEnd = endOfString(b, i);
      if (keyEnd < 0) return undefined;
      i = skipSpace(b, keyEnd);
      if (b[i] !== COLON) return undefined;
      i = skipSpace(b, i + 1);
      const keyLength = keyEnd - 1 - keyStart;
      // An escaped key (`"update\u005fid"`) is left to JSON.parse.
      if (hasByte(b, BACKSLASH, keyStart, keyStart + keyLength)) return undefined;
      if (keyLength === UPDATE_ID.length && sameBytes(b, keyStart, UPDATE_ID)) {
        // Last one wins, as with JSON.parse. `1.0`, `1e3` or `12x` stop the integer short of a
        // comma or brace, which the code below then refuses: JSON.parse decides those.
        const end = endOfInteger(b, i);
        if (end < 0) return undefined;
        updateId = integerAt(b, i, end);
        // Exact up to 2^53; past it, rounding never brings the sum back under.
        if (Math.abs(updateId) > Number.MAX_SAFE_INTEGER) return undefined;
        i = end;
      } else {
        type ??= kindName(b, keyStart, keyStart + keyLength);
        i = skipValue(b, i);
        if (i < 0) return undefined;
      }
      i = skipSpace(b, i);
      if (b[i] === COMMA) {
        i = skipSpace(b, i + 1);
        continue;
      }
      if (b[i] !== CLOSE_OBJECT) return undefined;
      i++;
      break;
    }
  if (skipSpace(b, i) !== n || updateId === undefined) return undefined;
  return { updateId, type: type ?? 'unknown' };
}

/** Containers deeper than this are left to JSON.parse (Telegram's updates nest a dozen levels). */
const MAX_DEPTH = 64;
const stack = new Uint8Array(MAX_DEPTH);

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const UPDATE_ID = Buffer.from('update_id');
const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');

/** Bytes that may follow `\` in a JSON string (`u` is checked apart, for its four hex digits). */
const ESCAPES = new Uint8Array(256);
for (const c of '"\\/bfnrt') ESCAPES[c.charCodeAt(0)] = 1;
/** Bytes that stand for themselves inside a JSON string: all but `"`, `\` and control bytes. */
const PLAIN = new Uint8Array(256).fill(1, 0x20);
PLAIN[QUOTE] = 0;
PLAIN[BACKSLASH] = 0;
const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

function skipSpace(b: Uint8Array, i: number): number {
  for (;;) {
    const c = b[i];
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else return i;
  }
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= ZERO && c <= NINE;
}

/** `i` is at an opening quote; returns the index just past the closing one, or -1. */
function endOfString(b: Uint8Array, i: number): number {
  const n = b.length;
  for (i++; i < n; i++) {
    const c = b[i] as number;
    if (PLAIN[c]) continue;
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) {
      const e = b[++i] as number;
      if (e === 0x75) {
        if (!(
          HEX[b[i + 1] as number] &&
          HEX[b[i + 2] as number] &&
          HEX[b[i + 3] as number] &&
          HEX[b[i + 4] as number]
        ))
          return -1;
        i += 4;
      } else if (!ESCAPES[e]) return -1;
    } else if (c < 0x20) return -1;
  }
  return -1;
}

function skipDigits(b: Uint8Array, i: number): number {
  while (isDigit(b[i])) i++;
  return i;
}

/** `-?(0|[1-9][0-9]*)` at `i`: the index past it, or -1. */
function endOfInteger(b: Uint8Array, i: number): number {
  if (b[i] === MINUS) i++;
  if (b[i] === ZERO) return i + 1;
  return isDigit(b[i]) ? skipDigits(b, i + 1) : -1;
}

/** A JSON number at `i`: the index past it, or -1. */
function endOfNumber(b: Uint8Array, i: number): number {
  i = endOfInteger(b, i);
  if (i < 0) return -1;
  if (b[i] === 0x2e) {
    if (!isDigit(b[i + 1])) return -1;
    i = skipDigits(b, i + 1);
  }
  if (b[i] === 0x65 || b[i] === 0x45) {
    i++;
    if (b[i] === 0x2b || b[i] === MINUS) i++;
    if (!isDigit(b[i])) return -1;
    i = skipDigits(b, i);
  }
  return i;
}

function integerAt(b: Uint8Array, start: number, end: number): number {
  const negative = b[start] === MINUS;
  let value = 0;
  for (let i = negative ? start + 1 : start; i < end; i++) value = value * 10 + ((b[i] as number) - ZERO);
  return negative ? -value : value;
}

function hasByte(b: Uint8Array, byte: number, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i] === byte) return true;
  return false;
}

function sameBytes(b: Uint8Array, at: number, expected: Uint8Array): boolean {
  for (let k = 0; k < expected.length; k++) if (b[at + k] !== expected[k]) return false;
  return true;
}

/** One JSON value of any kind at `i` (containers walked with an explicit stack): the index past it, or -1. */
function skipValue(b: Uint8Array, i: number): number {
  let depth = 0;
  for (;;) {
    // A value starts at i.
    const c = b[i];
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      i = skipSpace(b, i + 1);
      if (b[i] === (c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)) i++;
      else {
        if (depth === MAX_DEPTH) return -1;
        stack[depth++] = c;
        if (c === OPEN_OBJECT) {
          i = skipKey(b, i);
          if (i < 0) return -1;
        }
        continue;
      }
    } else if (c === QUOTE) i = endOfString(b, i);
    else if (c === 0x74) i = sameBytes(b, i, TRUE) ? i + 4 : -1;
    else if (c === 0x66) i = sameBytes(b, i, FALSE) ? i + 5 : -1;
    else if (c === 0x6e) i = sameBytes(b, i, NULL) ? i + 4 : -1;
    else i = endOfNumber(b, i);
    if (i < 0) return -1;
    // After a value: close containers until a comma asks for the next value.
    for (;;) {
      if (depth === 0) return i;
      i = skipSpace(b, i);
      const open = stack[depth - 1];
      if (b[i] === COMMA) {
        i = skipSpace(b, i + 1);
        if (open === OPEN_OBJECT) {
          i = skipKey(b, i);
          if (i < 0) return -1;
        }
        break;
      }
      if (b[i] !== (open === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)) return -1;
      depth--;
      i++;
    }
  }
}

/** `"key" :` and the space after it; the index of the value, or -1. */
function skipKey(b: Uint8Array, i: number): number {
  if (b[i] !== QUOTE) return -1;
  i = endOfString(b, i);
  if (i < 0) return -1;
  i = skipSpace(b, i);
  return b[i] === COLON ? skipSpace(b, i + 1) : -1;
}

/**
 * The kind's name as a string, from a small cache: the same few kinds arrive all day, and a
 * cached string is neither allocated again nor hashed again by the maps it is looked up in.
 */
const kinds: { bytes: Buffer; name: string }[] = [];
const MAX_KINDS = 64;

function kindName(b: Uint8Array, start: number, end: number): string {
  const length = end - start;
  for (const kind of kinds)
    if (kind.bytes.length === length && sameBytes(b, start, kind.bytes)) return kind.name;
  const bytes = Buffer.from(b.subarray(start, end));
  const name = bytes.toString('utf8');
  if (kinds.length < MAX_KINDS) kinds.push({ bytes, name });
  return name;
}
