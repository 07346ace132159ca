import { scanUpdate } from './scan-update.js';
import { parseUpdate, parseUpdateWithJson } from './update-body.js';

/** What JSON.parse decides — parseUpdate's answer before the scan existed; 'invalid' for any error. */
function reference(body: Buffer): { updateId: number; type: string } | 'invalid' {
  const parsed = parseUpdateWithJson(body);
  return typeof parsed === 'string' ? 'invalid' : parsed;
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
    ['an escaped key', '{"update\\u005fid":1,"message":{}}', { updateId: 1, type: 'message' }],
    ['update_id written as 1.0', '{"update_id":1.0,"message":{}}', { updateId: 1, type: 'message' }],
    ['update_id written as 1e3', '{"update_id":1e3}', { updateId: 1000, type: 'unknown' }],
    ['an update_id past 2^53', '{"update_id":9007199254740993}', 'update_id must be an integer'],
    ['deep nesting', `{"update_id":5,"x":${'['.repeat(100)}${']'.repeat(100)}}`, { updateId: 5, type: 'x' }],
    ['update_id as a string', '{"update_id":"5"}', 'update_id must be an integer'],
    ['a missing update_id', '{"message":{}}', 'update_id must be an integer'],
    ['an array', '[1]', 'body must be a JSON object'],
  ])('leaves %s to JSON.parse, and parseUpdate still answers right', (_name, text, expected) => {
    expect(scanUpdate(Buffer.from(text))).toBeUndefined();
    expect(parseUpdate(Buffer.from(text))).toEqual(expected);
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
    expect(reference(Buffer.from(text))).toBe('invalid');
    expect(scanUpdate(Buffer.from(text))).toBeUndefined();
  });

  it('never accepts what JSON.parse rejects, and agrees with it on what it accepts (100,000 mutated bodies)', () => {
    const next = random(20261121);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
    const alphabet = Buffer.from('{}[]":,\\ \t\n-+.0123456789eEtrufalsn\u0001u_idmeg');
    let accepted = 0;
    for (let round = 0; round < 100_000; round++) {
      const bytes = Buffer.from(JSON.stringify(pick(UPDATES), null, next() < 0.3 ? 1 : undefined));
      let body: Buffer = bytes;
      const edits = 1 + Math.floor(next() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(next() * body.length);
        const byte =
          next() < 0.9
            ? (alphabet[Math.floor(next() * alphabet.length)] as number)
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
      const scanned = scanUpdate(body);
      if (scanned === undefined) continue;
      accepted++;
      const expected = reference(body);
      if (JSON.stringify(scanned) !== JSON.stringify(expected))
        throw new Error(
          `disagrees with JSON.parse on ${JSON.stringify(body.toString('latin1'))}: ${JSON.stringify(scanned)} vs ${JSON.stringify(expected)}`,
        );
    }
    // Many mutations land inside strings and numbers and leave valid JSON: both sides were tried.
    expect(accepted).toBeGreaterThan(10_000);
  });
});
