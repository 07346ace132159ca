import { isUtf8 } from 'node:buffer';
import { KIND_PATTERN } from '../common/update-kinds.js';
import { MAX_DEPTH, scanUpdate } from './scan-update.js';
import { parseUpdate } from './update-body.js';

/**
 * What the strict rules decide, built on JSON.parse rather than on the scanner's code: valid
 * UTF-8, valid JSON, an object, `update_id` a safe integer written as one, every other key a kind
 * name, nesting within MAX_DEPTH; the kind is the first key besides `update_id`.
 */
function reference(body: Buffer): { updateId: number; type: string } | 'invalid' {
  if (!isUtf8(body)) return 'invalid';
  const text = body.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'invalid';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'invalid';
  const update = value as Record<string, unknown>;
  const updateId = update.update_id;
  if (typeof updateId !== 'number' || !Number.isSafeInteger(updateId)) return 'invalid';
  const kinds = Object.keys(update).filter((key) => key !== 'update_id');
  if (!kinds.every((key) => KIND_PATTERN.test(key))) return 'invalid';
  const { depth, literals } = topLevel(text);
  if (depth > MAX_DEPTH || !/^-?(0|[1-9][0-9]*)$/.test(literals.get('update_id') ?? '')) return 'invalid';
  return { updateId, type: kinds[0] ?? 'unknown' };
}

/** For text JSON.parse accepted: its deepest nesting, and the raw text of each top-level value (last wins). */
function topLevel(text: string): { depth: number; literals: Map<string, string> } {
  const literals = new Map<string, string>();
  let depth = 0;
  let deepest = 0;
  let key: string | undefined;
  let valueStart = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
      if (depth === 1 && valueStart < 0) key = JSON.parse(text.slice(start, i + 1)) as string;
    } else if (c === ':' && depth === 1) valueStart = i + 1;
    else if (c === '{' || c === '[') deepest = Math.max(deepest, ++depth);
    if ((c === ',' && depth === 1) || ((c === '}' || c === ']') && depth-- === 1)) {
      if (key !== undefined && valueStart >= 0) literals.set(key, text.slice(valueStart, i).trim());
      valueStart = -1;
    }
  }
  return { depth: deepest, literals };
}

/** A small deterministic PRNG (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const UPDATES = [
  {
    update_id: 870412345,
    message: {
      message_id: 48213,
      from: { id: 271828182, is_bot: false, first_name: 'Ада', username: 'ada_l', language_code: 'ru' },
      chat: { id: -1001234567890, title: 'Чат "кавычки" \\ и \n перенос', type: 'supergroup' },
      date: 1795210000,
      text: 'Hello 👋 — tab\there, unicode \u0001 and "quotes"',
      entities: [{ offset: 6, length: 2, type: 'bold' }],
      link_preview_options: { is_disabled: true },
    },
  },
  { update_id: 1, callback_query: { id: '4382', data: 'buy:42', message: { chat: { id: 5 } } } },
  { edited_message: { text: '' }, update_id: 0 },
  { update_id: 2, my_chat_member: { old_chat_member: { status: 'left' }, new: null, flags: [true, false] } },
  {
    update_id: 3,
    poll: { total_voter_count: 0, options: [], ratio: -1.5e-3, big: 1.5e300, exact: 12345678901234 },
  },
  { update_id: 9007199254740991, message: {} },
  { update_id: -42 },
];

const KIND_REASON =
  'update kind must be a name of a-z, 0-9 and _ that starts with a letter, at most 64 characters';

describe('scanUpdate', () => {
  it('reads update_id and the kind of real updates without JSON.parse, however they are spaced', () => {
    for (const update of UPDATES)
      for (const text of [
        JSON.stringify(update),
        JSON.stringify(update, null, 2),
        ` \r\n\t${JSON.stringify(update, null, '\t')}\n`,
      ]) {
        const expected = reference(Buffer.from(text));
        expect(scanUpdate(Buffer.from(text))).toEqual(expected);
      }
  });

  it.each([
    ['an escaped key', '{"update\\u005fid":1,"m\\u0065ssage":{}}', { updateId: 1, type: 'message' }],
    [
      'deep nesting within the limit',
      `{"update_id":5,"x":${'['.repeat(MAX_DEPTH - 1)}${']'.repeat(MAX_DEPTH - 1)}}`,
      { updateId: 5, type: 'x' },
    ],
    [
      'a kind Telegram may add one day',
      '{"update_id":7,"brand_new_kind2":{}}',
      { updateId: 7, type: 'brand_new_kind2' },
    ],
    [
      'UTF-8 of every length',
      '{"update_id":8,"message":{"text":"é ✓ 𝄞 Ада"}}',
      { updateId: 8, type: 'message' },
    ],
  ])('accepts %s', (_name, text, expected) => {
    expect(reference(Buffer.from(text))).toEqual(expected);
    expect(scanUpdate(Buffer.from(text))).toEqual(expected);
  });

  it.each([
    [
      'update_id written as 1.0',
      '{"update_id":1.0,"message":{}}',
      'update_id must be written as an integer, such as 123 (not 1.0 or 1e3)',
    ],
    [
      'update_id written as 123e3',
      '{"update_id":123e3}',
      'update_id must be written as an integer, such as 123 (not 1.0 or 1e3)',
    ],
    ['an update_id past 2^53', '{"update_id":9007199254740993}', 'update_id must be an integer'],
    ['update_id as a string', '{"update_id":"5"}', 'update_id must be an integer'],
    ['a missing update_id', '{"message":{}}', 'update_id must be an integer'],
    ['an array', '[1]', 'body must be a JSON object'],
    [
      'a lone continuation byte',
      Buffer.from([...Buffer.from('{"update_id":1,"message":{"text":"'), 0x80, ...Buffer.from('"}}')]),
      'body is not valid UTF-8',
    ],
    [
      'an overlong form',
      Buffer.from([...Buffer.from('{"update_id":1,"message":{"text":"'), 0xc0, 0xaf, ...Buffer.from('"}}')]),
      'body is not valid UTF-8',
    ],
    [
      'an encoded surrogate',
      Buffer.from([
        ...Buffer.from('{"update_id":1,"message":{"text":"'),
        0xed,
        0xa0,
        0x80,
        ...Buffer.from('"}}'),
      ]),
      'body is not valid UTF-8',
    ],
    [
      'a truncated sequence',
      Buffer.from([...Buffer.from('{"update_id":1,"message":{"text":"'), 0xe2, 0x9c, ...Buffer.from('"}}')]),
      'body is not valid UTF-8',
    ],
    [
      'a code point past U+10FFFF',
      Buffer.from([
        ...Buffer.from('{"update_id":1,"message":{"text":"'),
        0xf4,
        0x90,
        0x80,
        0x80,
        ...Buffer.from('"}}'),
      ]),
      'body is not valid UTF-8',
    ],
    ['a kind with a slash and a wildcard', '{"update_id":1,"a/#":{}}', KIND_REASON],
    ['a kind that is a wildcard', '{"update_id":1,"+":{}}', KIND_REASON],
    ['a kind with a dot', '{"update_id":1,"a.b":{}}', KIND_REASON],
    ['a kind with a space', '{"update_id":1,"a b":{}}', KIND_REASON],
    ['a kind with a NUL', '{"update_id":1,"a\\u0000b":{}}', KIND_REASON],
    ['an upper-case kind', '{"update_id":1,"Message":{}}', KIND_REASON],
    ['a kind of 65 characters', `{"update_id":1,"${'k'.repeat(65)}":{}}`, KIND_REASON],
    ['a kind of 70,000 characters', `{"update_id":1,"${'k'.repeat(70_000)}":{}}`, KIND_REASON],
    ['a second key that is not a kind', '{"update_id":1,"message":{},"7":1}', KIND_REASON],
    [
      'nesting past the limit',
      `{"update_id":5,"x":${'['.repeat(MAX_DEPTH)}${']'.repeat(MAX_DEPTH)}}`,
      `body nests deeper than ${MAX_DEPTH} levels`,
    ],
  ])('rejects %s, and says why', (_name, text, reason) => {
    const body = Buffer.from(text);
    expect(reference(body)).toBe('invalid');
    expect(scanUpdate(body)).toBeUndefined();
    expect(parseUpdate(body)).toBe(reason);
  });

  it.each([
    ['a trailing comma', '{"update_id":1,}'],
    ['a trailing comma in an array', '{"update_id":1,"a":[1,]}'],
    ['trailing bytes', '{"update_id":1} x'],
    ['two objects', '{"update_id":1}{}'],
    ['a leading zero', '{"update_id":1,"a":01}'],
    ['a bare dot', '{"update_id":1,"a":1.}'],
    ['an exponent without digits', '{"update_id":1,"a":1e}'],
    ['a raw control byte in a string', '{"update_id":1,"a":"x\u0001y"}'],
    ['a bad escape', '{"update_id":1,"a":"\\x41"}'],
    ['a short \\u escape', '{"update_id":1,"a":"\\u12"}'],
    ['single quotes', "{'update_id':1}"],
    ['an unquoted key', '{update_id:1}'],
    ['a misspelt literal', '{"update_id":1,"a":nul}'],
    ['a missing colon', '{"update_id" 1}'],
    ['an unclosed object', '{"update_id":1,"a":{"b":2}'],
    ['mismatched brackets', '{"update_id":1,"a":[}]}'],
    ['an update_id running on', '{"update_id":12abc}'],
  ])('rejects %s, as JSON.parse does', (_name, text) => {
    expect(parseUpdate(Buffer.from(text))).toBe('body is not valid JSON');
    expect(reference(Buffer.from(text))).toBe('invalid');
    expect(scanUpdate(Buffer.from(text))).toBeUndefined();
  });

  it('decides every one of 100,000 mutated bodies as the reference does', () => {
    const next = random(20261121);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
    // JSON's own bytes, bytes of keys and numbers, and the lead and continuation bytes of UTF-8.
    const alphabet = Buffer.from('{}[]":,\\ \t\n-+.0123456789eEtrufalsn\u0001u_idmegA/#');
    const utf8 = [0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff];
    let accepted = 0;
    let rejected = 0;
    for (let round = 0; round < 100_000; round++) {
      const bytes = Buffer.from(JSON.stringify(pick(UPDATES), null, next() < 0.3 ? 1 : undefined));
      let body: Buffer = bytes;
      const edits = 1 + Math.floor(next() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(next() * body.length);
        const dice = next();
        const byte =
          dice < 0.8
            ? (alphabet[Math.floor(next() * alphabet.length)] as number)
            : dice < 0.9
              ? pick(utf8)
              : Math.floor(next() * 256);
        const action = next();
        if (action < 0.4) body = Buffer.concat([body.subarray(0, at), body.subarray(at + 1)]);
        else if (action < 0.7)
          body = Buffer.concat([body.subarray(0, at), Buffer.of(byte), body.subarray(at)]);
        else if (action < 0.95) {
          body = Buffer.from(body);
          body[at] = byte;
        } else body = body.subarray(0, at);
      }
      const scanned = scanUpdate(body) ?? 'invalid';
      const expected = reference(body);
      if (JSON.stringify(scanned) !== JSON.stringify(expected))
        throw new Error(
          `disagrees with the reference on ${JSON.stringify(body.toString('latin1'))}: ${JSON.stringify(scanned)} vs ${JSON.stringify(expected)}`,
        );
      if (scanned === 'invalid') rejected++;
      else accepted++;
    }
    // Many mutations land inside strings and numbers and leave a valid update: both sides were tried.
    expect(accepted).toBeGreaterThan(10_000);
    expect(rejected).toBeGreaterThan(10_000);
  });
});
