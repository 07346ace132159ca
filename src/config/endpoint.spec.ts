import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { endpointCollisions } from './endpoint.js';
import { ConfigurationError, loadConfig } from './load-settings.js';

const TOKEN = '123456:AAH-secret_token_value';
const RULE =
  'must be hash, random, token or a URL path: segments of A-Z a-z 0-9 . _ ~ - separated by /, at most 256 characters';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ TELEGRAM_SET_WEBHOOK: 'false', ...env });
  } catch (error) {
    if (error instanceof ConfigurationError) return [...error.problems];
    throw error;
  }
  return [];
}

function botsFile(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'endpoint-spec-')), 'bots.json');
  writeFileSync(file, content);
  return file;
}

/** The problems of a BOTS_FILE listing these bots, each with its own token. */
function problemsOfBots(bots: object[]): string[] {
  const entries = bots.map((bot, i) => ({ token: `${1000 + i}:token_${i}`, ...bot }));
  return problemsOf({ BOTS_FILE: botsFile(JSON.stringify(entries)) });
}

describe('endpoints are URL paths the router can find', () => {
  // The values of the finding (issue 16), and the other ways a path cannot match.
  const refused: Array<[string, string]> = [
    ['shop?x=1', 'it contains "?"'],
    ['my shop', 'it contains a space'],
    ['магазин', 'it contains a non-ASCII character'],
    ['a#b', 'it contains "#"'],
    ['x/../y', 'it has a "." or ".." segment'],
    ['a/./b', 'it has a "." or ".." segment'],
    ['..', 'it has a "." or ".." segment'],
    ['a%2Fb', 'it contains "%"'],
    ['tab\there', 'it contains a control character'],
    ['//shop', 'it has an empty segment (a trailing or double /, or no path at all)'],
    ['shop/', 'it has an empty segment (a trailing or double /, or no path at all)'],
    ['a//b', 'it has an empty segment (a trailing or double /, or no path at all)'],
    ['/', 'it has an empty segment (a trailing or double /, or no path at all)'],
    ['a'.repeat(257), 'it is 257 characters long'],
  ];

  // Test names show a long value by its length.
  const cases = refused.map(([endpoint, what]) => [
    endpoint.length > 20 ? `(${endpoint.length} characters)` : JSON.stringify(endpoint),
    what,
    endpoint,
  ]);

  it.each(cases)('WEBHOOK_ENDPOINT=%s is refused: %s', (_, what, endpoint) => {
    expect(problemsOf({ TELEGRAM_TOKEN: TOKEN, WEBHOOK_ENDPOINT: endpoint })).toEqual([
      `WEBHOOK_ENDPOINT ${RULE}; ${what}`,
    ]);
  });

  it.each(cases)('a BOTS_FILE endpoint %s is refused in the same words', (_, what, endpoint) => {
    expect(problemsOfBots([{ endpoint }])).toEqual([`BOTS_FILE entry 1: endpoint ${RULE}; ${what}`]);
  });

  it('never repeats the value, which may be a pasted token', () => {
    const problems = problemsOfBots([{ endpoint: TOKEN }]);
    expect(problems).toEqual([`BOTS_FILE entry 1: endpoint ${RULE}; it contains ":"`]);
    expect(problems.join()).not.toContain('secret_token_value');
  });

  it('accepts paths of every allowed character, a single leading slash, and the three modes', () => {
    const accepted = ['shop', '/chat', 'telegram/hook', 'A-z_0.9~x/...', `/${'a'.repeat(255)}`];
    for (const endpoint of accepted) {
      expect(problemsOf({ TELEGRAM_TOKEN: TOKEN, WEBHOOK_ENDPOINT: endpoint })).toEqual([]);
    }
    expect(problemsOfBots(accepted.map((endpoint) => ({ endpoint })))).toEqual([]);
    const sut = loadConfig({
      TELEGRAM_SET_WEBHOOK: 'false',
      BOTS_FILE: botsFile(
        JSON.stringify([
          { token: '1:a', endpoint: 'hash' },
          { token: '2:b', endpoint: 'random' },
          { token: TOKEN, endpoint: 'token' },
          { token: '3:c', endpoint: '/telegram/shop' },
        ]),
      ),
    });
    expect(sut.bots.map((bot) => bot.endpoint)).toEqual([
      expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      expect.stringMatching(/^[0-9a-f-]{36}$/),
      TOKEN,
      'telegram/shop',
    ]);
  });
});

describe('two bots at one path', () => {
  it('names both entries when paths are the same after the leading slash', () => {
    expect(problemsOfBots([{ endpoint: 'dup' }, { endpoint: '/dup' }])).toEqual([
      'BOTS_FILE entry 2: webhook endpoint "dup" is already used by BOTS_FILE entry 1; give each bot its own endpoint (or use WEBHOOK_ENDPOINT=hash)',
    ]);
    expect(problemsOfBots([{ endpoint: 'shop' }, { endpoint: 'chat' }, { endpoint: '/shop' }])).toEqual([
      'BOTS_FILE entry 3: webhook endpoint "shop" is already used by BOTS_FILE entry 1; give each bot its own endpoint (or use WEBHOOK_ENDPOINT=hash)',
    ]);
  });

  it('covers TELEGRAM_TOKEN at WEBHOOK_ENDPOINT beside BOTS_FILE entries', () => {
    const file = botsFile(JSON.stringify([{ token: '1:a', endpoint: '/hook' }]));
    expect(problemsOf({ TELEGRAM_TOKEN: TOKEN, WEBHOOK_ENDPOINT: 'hook', BOTS_FILE: file })).toEqual([
      'BOTS_FILE entry 1: webhook endpoint "hook" is already used by TELEGRAM_TOKEN; give each bot its own endpoint (or use WEBHOOK_ENDPOINT=hash)',
    ]);
  });

  it('reports the same token twice once, as such', () => {
    const file = botsFile(JSON.stringify([{ token: '1:a' }, { token: '1:a' }]));
    expect(problemsOf({ BOTS_FILE: file })).toEqual([
      'BOTS_FILE entry 2: the same bot token is already configured by BOTS_FILE entry 1',
    ]);
  });

  describe('endpointCollisions, for bots added at run time too', () => {
    it('checks new bots against the ones kept, in the router’s normalised form', () => {
      const kept = [
        { source: 'bot 1', endpoint: 'shop', token: '1:a' },
        { source: 'bot 2', endpoint: 'chat', token: '2:b' },
      ];
      expect(endpointCollisions([...kept, { source: 'new bot', endpoint: '/chat', token: '3:c' }])).toEqual([
        'new bot: webhook endpoint "chat" is already used by bot 2; give each bot its own endpoint (or use WEBHOOK_ENDPOINT=hash)',
      ]);
      expect(endpointCollisions([...kept, { source: 'new bot', endpoint: 'news', token: '3:c' }])).toEqual(
        [],
      );
    });

    it('never shows a path that is a token', () => {
      const problems = endpointCollisions([
        { source: 'bot 1', endpoint: TOKEN, token: TOKEN },
        { source: 'bot 2', endpoint: TOKEN, token: '2:b' },
      ]);
      expect(problems).toEqual([
        'bot 2: webhook endpoint is already used by bot 1; give each bot its own endpoint (or use WEBHOOK_ENDPOINT=hash)',
      ]);
    });
  });
});
