import { KIND_PATTERN, MAX_KIND_LENGTH, TELEGRAM_UPDATE_KINDS } from '../common/update-kinds.js';
import type { ParsedUpdate } from './update-body.js';
import {
  BACKSLASH,
  CLOSE_ARRAY,
  CLOSE_OBJECT,
  COLON,
  COMMA,
  MINUS,
  OPEN_ARRAY,
  OPEN_OBJECT,
  QUOTE,
  ZERO,
  isDigit,
  skipSpace,
} from '../common/json-bytes.js';

/**
 * `parseUpdate`'s one pass over the bytes: checks that the body is well-formed JSON (RFC 8259) in
 * valid UTF-8, that the top-level `update_id` is written as an integer (`-?(0|[1-9][0-9]*)`, not
 * `1.0` or `1e3`) and that every other top-level key is a kind name (KIND_PATTERN), and reads
 * `update_id` and the kind (the first such key) — without decoding the body to a string or
 * building its objects. Returns `undefined` to reject; `explainRejection` then says why.
 *
 * Strict on purpose: Telegram never sends anything else, and consumers in Python, Go or Rust refuse
 * invalid UTF-8 or a fractional id. The unit tests hold it to a reference built on `JSON.parse`.
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
      let key = keyKind(b, keyStart, keyEnd - 1);
      // An escaped key (`"update\u005fid"`) is decoded; Telegram never sends one.
      if (key === ESCAPED) key = escapedKeyKind(b, keyStart, keyEnd - 1);
      if (key === IS_UPDATE_ID) {
        // Last one wins, as with JSON.parse. `1.0`, `1e3` or `12x` stop the integer short of a
        // comma or brace, which the code below refuses.
        const end = endOfInteger(b, i);
        if (end < 0) return undefined;
        updateId = integerAt(b, i, end);
        // Exact up to 2^53; past it, rounding never brings the sum back under.
        if (Math.abs(updateId) > Number.MAX_SAFE_INTEGER) return undefined;
        i = end;
      } else {
        if (key === NOT_A_KIND) return undefined;
        type ??= typeof key === 'string' ? key : kindName(b, keyStart, keyEnd - 1);
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

/** Levels of objects and arrays at most, the update itself included (Telegram's nest a dozen). */
export const MAX_DEPTH = 256;
const stack = new Uint8Array(MAX_DEPTH);

/** What a top-level key is: `update_id`, a kind name (bytes still in the body, or decoded), or neither. */
const IS_UPDATE_ID = 0;
const IS_KIND = 1;
const NOT_A_KIND = 2;
const ESCAPED = 3;
type KeyKind = typeof IS_UPDATE_ID | typeof IS_KIND | typeof NOT_A_KIND | typeof ESCAPED | string;

/** Sorts the key between `start` and `end` (its bytes, without quotes) by KIND_PATTERN's rule. */
function keyKind(b: Uint8Array, start: number, end: number): KeyKind {
  const length = end - start;
  if (length === UPDATE_ID.length && sameBytes(b, start, UPDATE_ID)) return IS_UPDATE_ID;
  if (length === 0 || length > MAX_KIND_LENGTH || !KIND_FIRST[b[start] as number]) {
    return hasByte(b, BACKSLASH, start, end) ? ESCAPED : NOT_A_KIND;
  }
  for (let k = start + 1; k < end; k++) {
    const c = b[k] as number;
    if (!KIND_REST[c]) return c === BACKSLASH || hasByte(b, BACKSLASH, k, end) ? ESCAPED : NOT_A_KIND;
  }
  return IS_KIND;
}

/** The rare escaped key, decoded by JSON.parse and sorted the same way; the kind's name when it is one. */
function escapedKeyKind(b: Uint8Array, start: number, end: number): KeyKind {
  const name = JSON.parse(
    Buffer.from(b.buffer, b.byteOffset + start - 1, end - start + 2).toString('utf8'),
  ) as string;
  if (name === 'update_id') return IS_UPDATE_ID;
  return KIND_PATTERN.test(name) ? name : NOT_A_KIND;
}

/** Bytes a kind name may start with (`a-z`), and continue with (`a-z 0-9 _`). */
const KIND_FIRST = new Uint8Array(256).fill(1, 0x61, 0x7b);
const KIND_REST = new Uint8Array(256).fill(1, 0x61, 0x7b).fill(1, 0x30, 0x3a);
KIND_REST[0x5f] = 1;

const UPDATE_ID = Buffer.from('update_id');
const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');

/** Bytes that may follow `\` in a JSON string (`u` is checked apart, for its four hex digits). */
const ESCAPES = new Uint8Array(256);
for (const c of '"\\/bfnrt') ESCAPES[c.charCodeAt(0)] = 1;
/**
 * ASCII bytes that stand for themselves inside a JSON string: all but `"`, `\\` and control bytes.
 * Bytes from 0x80 start a UTF-8 sequence, checked apart.
 */
const PLAIN = new Uint8Array(256).fill(1, 0x20, 0x80);
PLAIN[QUOTE] = 0;
PLAIN[BACKSLASH] = 0;
const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

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
    } else if (c >= 0x80) {
      i = endOfUtf8(b, i, c);
      if (i < 0) return -1;
    } else return -1;
  }
  return -1;
}

/**
 * `i` is at the lead byte `c` (≥ 0x80) of a UTF-8 sequence; the index of its last byte, or -1 when
 * it is not well-formed (Unicode, table 3-7: no overlong forms, no surrogates, nothing past U+10FFFF).
 */
function endOfUtf8(b: Uint8Array, i: number, c: number): number {
  const c1 = b[i + 1] as number;
  if (c >= 0xc2 && c <= 0xdf) return isContinuation(c1) ? i + 1 : -1;
  if (c >= 0xe0 && c <= 0xef) {
    const low = c === 0xe0 ? 0xa0 : 0x80;
    const high = c === 0xed ? 0x9f : 0xbf;
    return c1 >= low && c1 <= high && isContinuation(b[i + 2]) ? i + 2 : -1;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const low = c === 0xf0 ? 0x90 : 0x80;
    const high = c === 0xf4 ? 0x8f : 0xbf;
    return c1 >= low && c1 <= high && isContinuation(b[i + 2]) && isContinuation(b[i + 3]) ? i + 3 : -1;
  }
  return -1;
}

function isContinuation(c: number | undefined): boolean {
  return c !== undefined && c >= 0x80 && c <= 0xbf;
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
      // The update itself is the first level, this container the (depth + 2)th.
      if (depth + 2 > MAX_DEPTH) return -1;
      i = skipSpace(b, i + 1);
      if (b[i] === (c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)) i++;
      else {
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
 * The kind's name as a string, from a cache of Telegram's kinds: the same few arrive all day, and
 * a cached string is neither allocated again nor hashed again by the maps it is looked up in.
 * Other kinds are not cached, so a flood of made-up names cannot crowd out the real ones.
 */
const kinds = [...TELEGRAM_UPDATE_KINDS].map((name) => ({ bytes: Buffer.from(name), name }));

function kindName(b: Uint8Array, start: number, end: number): string {
  const length = end - start;
  for (const kind of kinds)
    if (kind.bytes.length === length && sameBytes(b, start, kind.bytes)) return kind.name;
  return Buffer.from(b.buffer, b.byteOffset + start, length).toString('latin1');
}
