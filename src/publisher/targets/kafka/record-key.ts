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
} from '../../../common/json-bytes.js';

/**
 * The id a Kafka record of an update is keyed by, read from the update's bytes without decoding
 * them or building their objects: in the kind's object (`message`, `callback_query`, …), the first
 * of `chat.id`, `message.chat.id` (a callback query's message), `voter_chat.id` (an anonymous poll
 * answer), `from.id` and `user.id` that is there — so each chat's updates share a key, and updates
 * without a chat (inline queries, pre-checkout queries, …) are keyed by their user, whose private
 * chat has the same id. `undefined` when none is (a `poll`): the record is then keyed by the bot.
 *
 * Works on a body `scanUpdate` accepted (well-formed JSON in valid UTF-8), which is all a publisher
 * ever sees; with anything else it returns something or nothing, and never throws. Agrees with
 * `JSON.parse` on such bodies, duplicate keys (the last one wins) and escaped keys included; an id
 * counts only when written as an integer of at most 20 characters, as Telegram writes ids. The
 * unit tests hold it to a reference built on `JSON.parse`.
 */
export function recordKeyId(b: Uint8Array, type: string): string | undefined {
  found.fill(NONE);
  let i = skipSpace(b, 0);
  if (b[i] !== OPEN_OBJECT) return undefined;
  i = skipSpace(b, i + 1);
  while (b[i] === QUOTE) {
    const keyStart = i + 1;
    const keyEnd = endOfString(b, i) - 1;
    i = skipSpace(b, keyEnd + 1);
    if (b[i] !== COLON) return undefined;
    i = skipSpace(b, i + 1);
    if (keyIs(b, keyStart, keyEnd, type)) {
      // The last copy of the kind's key is the one JSON.parse keeps.
      found.fill(NONE);
      i = b[i] === OPEN_OBJECT ? scanKind(b, i) : skipValue(b, i);
    } else i = skipValue(b, i);
    i = skipSpace(b, i);
    if (b[i] !== COMMA) break;
    i = skipSpace(b, i + 1);
  }
  for (let slot = 0; slot < SLOTS; slot++) {
    const start = found[2 * slot] as number;
    if (start !== NONE) return latin1(b, start, found[2 * slot + 1] as number);
  }
  return undefined;
}

/** Where the id was found, by priority: chat, message.chat, voter_chat, from, user (start, end). */
const CHAT = 0;
const MESSAGE = 1;
const VOTER_CHAT = 2;
const FROM = 3;
const USER = 4;
const SLOTS = 5;
const NONE = -1;
const found = new Int32Array(2 * SLOTS);

/** The id just read by `scanId`: start and end of its digits, or NONE. */
let idStart = NONE;
let idEnd = NONE;

/** The longest id literal taken: a sign and 19 digits, past any id Telegram gives. */
const MAX_ID_LENGTH = 20;

/** Bytes that end a number or literal in well-formed JSON. */
const ENDS_SCALAR = new Uint8Array(256);
for (const c of ',}] \t\r\n') ENDS_SCALAR[c.charCodeAt(0)] = 1;

/** `i` at `{` of the kind's object: fills the slots from its members; the index past it. */
function scanKind(b: Uint8Array, i: number): number {
  i = skipSpace(b, i + 1);
  while (b[i] === QUOTE) {
    const keyStart = i + 1;
    const keyEnd = endOfString(b, i) - 1;
    i = skipSpace(b, keyEnd + 1);
    if (b[i] !== COLON) return i;
    i = skipSpace(b, i + 1);
    const slot = slotOf(b, keyStart, keyEnd);
    if (slot === NONE) i = skipValue(b, i);
    else {
      idStart = NONE;
      if (b[i] !== OPEN_OBJECT) i = skipValue(b, i);
      else i = slot === MESSAGE ? scanMessage(b, i) : scanId(b, i);
      found[2 * slot] = idStart;
      found[2 * slot + 1] = idEnd;
    }
    i = skipSpace(b, i);
    if (b[i] !== COMMA) break;
    i = skipSpace(b, i + 1);
  }
  return b[i] === CLOSE_OBJECT ? i + 1 : i;
}

/** `i` at `{` of a callback query's `message`: its last `chat`'s id into idStart/idEnd. */
function scanMessage(b: Uint8Array, i: number): number {
  i = skipSpace(b, i + 1);
  let start = NONE;
  let end = NONE;
  while (b[i] === QUOTE) {
    const keyStart = i + 1;
    const keyEnd = endOfString(b, i) - 1;
    i = skipSpace(b, keyEnd + 1);
    if (b[i] !== COLON) return i;
    i = skipSpace(b, i + 1);
    if (keyIs(b, keyStart, keyEnd, 'chat')) {
      idStart = NONE;
      i = b[i] === OPEN_OBJECT ? scanId(b, i) : skipValue(b, i);
      start = idStart;
      end = idEnd;
    } else i = skipValue(b, i);
    i = skipSpace(b, i);
    if (b[i] !== COMMA) break;
    i = skipSpace(b, i + 1);
  }
  idStart = start;
  idEnd = end;
  return b[i] === CLOSE_OBJECT ? i + 1 : i;
}

/** `i` at `{` of a chat or user: its last `id`, when an integer literal, into idStart/idEnd. */
function scanId(b: Uint8Array, i: number): number {
  i = skipSpace(b, i + 1);
  idStart = NONE;
  while (b[i] === QUOTE) {
    const keyStart = i + 1;
    const keyEnd = endOfString(b, i) - 1;
    i = skipSpace(b, keyEnd + 1);
    if (b[i] !== COLON) return i;
    i = skipSpace(b, i + 1);
    if (keyIs(b, keyStart, keyEnd, 'id')) {
      const end = endOfInteger(b, i);
      idStart =
        end > i && end - i <= MAX_ID_LENGTH && (ENDS_SCALAR[b[end] as number] || end === b.length) ? i : NONE;
      idEnd = end;
    }
    i = skipValue(b, i);
    i = skipSpace(b, i);
    if (b[i] !== COMMA) break;
    i = skipSpace(b, i + 1);
  }
  return b[i] === CLOSE_OBJECT ? i + 1 : i;
}

/** Which slot a key of the kind's object fills, or NONE. */
function slotOf(b: Uint8Array, start: number, end: number): number {
  switch (b[start] as number) {
    case 0x63 /* c */:
      if (keyIs(b, start, end, 'chat')) return CHAT;
      break;
    case 0x6d /* m */:
      if (keyIs(b, start, end, 'message')) return MESSAGE;
      break;
    case 0x76 /* v */:
      if (keyIs(b, start, end, 'voter_chat')) return VOTER_CHAT;
      break;
    case 0x66 /* f */:
      if (keyIs(b, start, end, 'from')) return FROM;
      break;
    case 0x75 /* u */:
      if (keyIs(b, start, end, 'user')) return USER;
      break;
    case BACKSLASH:
      break;
    default:
      return NONE;
  }
  if (!hasBackslash(b, start, end)) return NONE;
  const name = decodedKey(b, start, end);
  const slot = ['chat', 'message', 'voter_chat', 'from', 'user'].indexOf(name);
  return slot === -1 ? NONE : slot;
}

/** Whether the key between `start` and `end` (its bytes, without quotes) is `name` (ASCII). */
function keyIs(b: Uint8Array, start: number, end: number, name: string): boolean {
  if (end - start === name.length) {
    let k = 0;
    while (k < name.length && b[start + k] === name.charCodeAt(k)) k++;
    if (k === name.length) return true;
  }
  // An escaped key (`"ch\u0061t"`) is decoded, as JSON.parse would; Telegram never sends one.
  return hasBackslash(b, start, end) && decodedKey(b, start, end) === name;
}

function hasBackslash(b: Uint8Array, start: number, end: number): boolean {
  for (let k = start; k < end; k++) if (b[k] === BACKSLASH) return true;
  return false;
}

function decodedKey(b: Uint8Array, start: number, end: number): string {
  try {
    return JSON.parse(
      Buffer.from(b.buffer, b.byteOffset + start - 1, end - start + 2).toString('utf8'),
    ) as string;
  } catch {
    return '';
  }
}

function latin1(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}

/** `-?(0|[1-9][0-9]*)` at `i`: the index past it, or `i` when there is none. */
function endOfInteger(b: Uint8Array, i: number): number {
  let k = b[i] === MINUS ? i + 1 : i;
  if (b[k] === ZERO) return k + 1;
  if (!isDigit(b[k])) return i;
  while (isDigit(b[k])) k++;
  return k;
}

/** `i` at an opening quote: the index just past the closing one (or the end of the bytes). */
function endOfString(b: Uint8Array, i: number): number {
  const n = b.length;
  for (i++; i < n; i++) {
    const c = b[i];
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i + 1;
  }
  return n;
}

/** One well-formed JSON value at `i`: the index past it. */
function skipValue(b: Uint8Array, i: number): number {
  const n = b.length;
  const c = b[i];
  if (c === QUOTE) return endOfString(b, i);
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
    let depth = 0;
    for (; i < n; i++) {
      const d = b[i];
      if (d === QUOTE) i = endOfString(b, i) - 1;
      else if (d === OPEN_OBJECT || d === OPEN_ARRAY) depth++;
      else if ((d === CLOSE_OBJECT || d === CLOSE_ARRAY) && --depth === 0) return i + 1;
    }
    return n;
  }
  // A number, true, false or null.
  while (i < n && !ENDS_SCALAR[b[i] as number]) i++;
  return i;
}
