import { scanUpdate } from '../../../webhook/scan-update.js';
import { recordKeyId } from './record-key.js';

/**
 * What the key rule decides, built on JSON.parse rather than on the scanner's code. Every number
 * is first wrapped as `{"\u0000n":"<its text>"}` (strings are matched first, so numbers inside
 * them are left alone), so the id's literal is seen as written: `1.0` is not the integer 1.
 */
const MARK = '\u0000n';
const TOKENS = /"(?:[^"\\]|\\.)*"|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/g;

function reference(body: Buffer, type: string): string | undefined {
  const marked = JSON.parse(
    body
      .toString('utf8')
      .replace(TOKENS, (token) => (token.startsWith('"') ? token : `{"\\u0000n":"${token}"}`)),
  ) as unknown;
  const kind = member(marked, type);
  return (
    idOf(member(kind, 'chat')) ??
    idOf(member(member(kind, 'message'), 'chat')) ??
    idOf(member(kind, 'voter_chat')) ??
    idOf(member(kind, 'from')) ??
    idOf(member(kind, 'user'))
  );
}

function member(value: unknown, key: string): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

function idOf(holder: unknown): string | undefined {
  const literal = member(member(holder, 'id'), MARK);
  return typeof literal === 'string' && /^-?(0|[1-9][0-9]*)$/.test(literal) && literal.length <= 20
    ? literal
    : undefined;
}

/** The scanner on a body as the webhook passes it on: accepted by scanUpdate, with its kind. */
function keyOf(text: string | Buffer): string | undefined {
  const body = Buffer.from(text);
  const scanned = scanUpdate(body);
  if (!scanned) throw new Error(`not an update scanUpdate accepts: ${body.toString()}`);
  return recordKeyId(body, scanned.type);
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

const MESSAGE = {
  update_id: 870412345,
  message: {
    message_id: 48213,
    from: { id: 271828182, is_bot: false, first_name: 'Ада', username: 'ada_l' },
    chat: { id: -1001234567890, title: 'Чат "id": 5, \\ {"chat":{"id":9}}', type: 'supergroup' },
    date: 1795210000,
    text: 'chat id 7 — "id":8',
  },
};

describe('recordKeyId', () => {
  it.each([
    ['a message: its chat', MESSAGE, '-1001234567890'],
    [
      'a channel post: its chat',
      { update_id: 1, channel_post: { message_id: 2, chat: { id: -1009, type: 'channel' }, text: 'x' } },
      '-1009',
    ],
    [
      'a callback query on a message: that message’s chat, not the user',
      {
        update_id: 2,
        callback_query: {
          id: '77',
          from: { id: 42 },
          message: { message_id: 3, chat: { id: -5 } },
          data: 'b',
        },
      },
      '-5',
    ],
    [
      'a callback query on an inline message: the user',
      { update_id: 3, callback_query: { id: '78', from: { id: 42 }, inline_message_id: 'AAA', data: 'b' } },
      '42',
    ],
    [
      'an inline query: the user',
      { update_id: 4, inline_query: { id: '9', from: { id: 43 }, query: 'cats', offset: '' } },
      '43',
    ],
    [
      'a pre-checkout query: the user',
      { update_id: 5, pre_checkout_query: { id: '1', from: { id: 44 }, currency: 'XTR', total_amount: 5 } },
      '44',
    ],
    [
      'a reaction: the chat, not the user who reacted',
      { update_id: 6, message_reaction: { chat: { id: -77 }, message_id: 1, user: { id: 45 } } },
      '-77',
    ],
    [
      'a poll answer: the voter',
      { update_id: 7, poll_answer: { poll_id: 'p', user: { id: 46 }, option_ids: [0] } },
      '46',
    ],
    [
      'an anonymous poll answer: the chat that voted',
      { update_id: 8, poll_answer: { poll_id: 'p', voter_chat: { id: -78 }, option_ids: [1] } },
      '-78',
    ],
    [
      'a business connection: the user',
      { update_id: 9, business_connection: { id: 'c', user: { id: 47 }, user_chat_id: 47, date: 1 } },
      '47',
    ],
    [
      'a poll: nothing (the bot keys it)',
      { update_id: 10, poll: { id: 'p', question: 'q', options: [] } },
      undefined,
    ],
    [
      'a kind Telegram adds one day, with a chat',
      { update_id: 11, brand_new_kind: { chat: { id: 5 } } },
      '5',
    ],
    [
      'an id written as 1.0: not an id, so the next candidate',
      { update_id: 12, message: { chat: { id: 1.5 }, from: { id: 48 } } },
      '48',
    ],
    ['an id as a string: not an id', { update_id: 13, message: { chat: { id: '5' } } }, undefined],
    ['a chat that is not an object', { update_id: 14, message: { chat: 5, from: { id: 49 } } }, '49'],
  ])('%s', (_name, update, expected) => {
    const text = JSON.stringify(update);
    expect(reference(Buffer.from(text), Object.keys(update)[1] as string)).toBe(expected);
    expect(keyOf(text)).toBe(expected);
    expect(keyOf(JSON.stringify(update, null, 2))).toBe(expected);
  });

  it.each([
    [
      'the last of two chats, as JSON.parse',
      '{"update_id":1,"message":{"chat":{"id":1},"chat":{"id":2}}}',
      '2',
    ],
    ['the last of two ids', '{"update_id":1,"message":{"chat":{"id":1,"id":3}}}', '3'],
    [
      'a last id that is not one',
      '{"update_id":1,"message":{"chat":{"id":1,"id":null},"from":{"id":4}}}',
      '4',
    ],
    [
      'the last copy of the kind',
      '{"update_id":1,"message":{"chat":{"id":1}},"message":{"from":{"id":6}}}',
      '6',
    ],
    ['an escaped chat key', '{"update_id":1,"message":{"ch\\u0061t":{"\\u0069d":7}}}', '7'],
    ['an escaped kind key', '{"update_id":1,"m\\u0065ssage":{"chat":{"id":8}}}', '8'],
    ['spaces everywhere', ' {\n"update_id" : 1 ,\t"message" : { "chat" : { "id" : -9 } } } ', '-9'],
    [
      'an id of 21 characters: not one',
      `{"update_id":1,"message":{"chat":{"id":-${'1'.repeat(20)}}}}`,
      undefined,
    ],
    ['-0, as written', '{"update_id":1,"message":{"chat":{"id":-0}}}', '-0'],
  ])('%s', (_name, text, expected) => {
    expect(reference(Buffer.from(text), 'message')).toBe(expected);
    expect(keyOf(text)).toBe(expected);
  });

  it('agrees with the reference on 30,000 generated updates: duplicates, escapes, odd types', () => {
    const next = random(20261202);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
    const KINDS = ['message', 'callback_query', 'poll_answer', 'inline_query', 'poll'];
    const KEYS = ['chat', 'message', 'voter_chat', 'from', 'user', 'id', 'id', 'text', 'x'];
    const NUMBERS = [
      '5',
      '-1001234567890',
      '0',
      '-0',
      '1.5',
      '1e3',
      '-7E-2',
      '271828182',
      '1'.repeat(20),
      '1'.repeat(21),
    ];
    const STRINGS = [
      '"a"',
      '"\\"id\\":5"',
      '"{\\"chat\\":{\\"id\\":1}}"',
      '"Ада 👋"',
      '"\\\\"',
      '"\\u0041"',
      '""',
    ];
    const space = (): string => pick(['', '', '', ' ', '\n  ', '\t']);
    /** A key as written: sometimes with one character escaped, which JSON.parse decodes. */
    const key = (name: string): string => {
      if (next() < 0.1) {
        const at = Math.floor(next() * name.length);
        const code = name.charCodeAt(at).toString(16).padStart(4, '0');
        return `"${name.slice(0, at)}\\u${code}${name.slice(at + 1)}"`;
      }
      return `"${name}"`;
    };
    const SLOT_KEYS = new Set(['chat', 'message', 'voter_chat', 'from', 'user']);
    const value = (depth: number, object = false): string => {
      const dice = object ? 0 : next();
      if (depth < 3 && dice < 0.45) {
        const members = Array.from({ length: Math.floor(next() * 4) + (object ? 1 : 0) }, () => {
          const name = pick(KEYS);
          const member =
            name === 'id' && next() < 0.7
              ? pick(NUMBERS)
              : value(depth + 1, SLOT_KEYS.has(name) && next() < 0.7);
          return `${space()}${key(name)}${space()}:${space()}${member}${space()}`;
        });
        return `{${members.join(',')}}`;
      }
      if (depth < 3 && dice < 0.55)
        return `[${Array.from({ length: Math.floor(next() * 3) }, () => value(depth + 1)).join(',')}]`;
      if (dice < 0.75) return pick(NUMBERS);
      if (dice < 0.92) return pick(STRINGS);
      return pick(['true', 'false', 'null']);
    };
    let keyed = 0;
    let unkeyed = 0;
    for (let round = 0; round < 30_000; round++) {
      const kinds = Array.from({ length: 1 + Math.floor(next() * 2) }, () => pick(KINDS));
      const members = [
        `"update_id":${round}`,
        ...kinds.map((kind) => `${key(kind)}:${value(1, next() < 0.9)}`),
      ];
      if (next() < 0.5) members.reverse();
      const body = Buffer.from(`${space()}{${members.join(`,${space()}`)}}`);
      const scanned = scanUpdate(body);
      if (!scanned) throw new Error(`generated an update scanUpdate refuses: ${body.toString()}`);
      const got = recordKeyId(body, scanned.type);
      const expected = reference(body, scanned.type);
      if (got !== expected)
        throw new Error(`disagrees with the reference on ${body.toString()}: ${got} vs ${expected}`);
      if (got === undefined) unkeyed++;
      else keyed++;
    }
    expect(keyed).toBeGreaterThan(3000);
    expect(unkeyed).toBeGreaterThan(3000);
  });

  it('agrees with the reference on 50,000 mutated real updates scanUpdate accepts', () => {
    const next = random(1414);
    const updates = [
      MESSAGE,
      { update_id: 2, callback_query: { id: '77', from: { id: 42 }, message: { chat: { id: -5 } } } },
      { update_id: 3, poll_answer: { poll_id: 'p', voter_chat: { id: -78 }, user: { id: 1 } } },
    ];
    const alphabet = Buffer.from('{}[]":,\\ -.0123456789eEchatidmsgfromuservo_');
    let compared = 0;
    for (let round = 0; round < 50_000; round++) {
      let body = Buffer.from(
        JSON.stringify(updates[round % updates.length], null, round % 4 === 0 ? 1 : undefined),
      );
      for (let e = 0; e < 1 + Math.floor(next() * 3); e++) {
        const at = Math.floor(next() * body.length);
        const byte = alphabet[Math.floor(next() * alphabet.length)] as number;
        const action = next();
        if (action < 0.4) body = Buffer.concat([body.subarray(0, at), body.subarray(at + 1)]);
        else if (action < 0.7)
          body = Buffer.concat([body.subarray(0, at), Buffer.of(byte), body.subarray(at)]);
        else {
          body = Buffer.from(body);
          body[at] = byte;
        }
      }
      const scanned = scanUpdate(body);
      // Bodies the webhook refuses never reach a publisher: the scanner is not asked about them.
      if (!scanned) continue;
      compared++;
      const got = recordKeyId(body, scanned.type);
      const expected = reference(body, scanned.type);
      if (got !== expected)
        throw new Error(
          `disagrees with the reference on ${JSON.stringify(body.toString('latin1'))}: ${got} vs ${expected}`,
        );
    }
    expect(compared).toBeGreaterThan(5000);
  });

  it('never throws on bytes that are not JSON, and stops at their end', () => {
    for (const text of [
      '',
      '{',
      '{"message":{"chat":{"id":1',
      '{"message":{"chat":{"id":"',
      '[1]',
      '{"a"',
      '{"message":[',
    ]) {
      expect(() => recordKeyId(Buffer.from(text), 'message')).not.toThrow();
    }
  });
});
