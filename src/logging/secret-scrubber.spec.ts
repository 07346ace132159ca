import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveSecret } from '../config/bots.js';
import { loadConfig } from '../config/load-settings.js';
import { botSecrets, configSecrets, SECRET_MARKER, SecretScrubber, tokenHalf } from './secret-scrubber.js';

const TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const HALF = 'AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const SECRET = 'webhook-secret_0123456789';
const R = SECRET_MARKER;

/** A small deterministic PRNG (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The obvious scrubber: at each position the longest secret starting there, else the character. */
function referenceScrub(text: string, secrets: readonly string[]): string {
  const longestFirst = [...secrets].sort((a, b) => b.length - a.length);
  let out = '';
  for (let at = 0; at < text.length;) {
    const secret = longestFirst.find((s) => text.startsWith(s, at));
    if (secret === undefined) out += text[at++];
    else {
      out += R;
      at += secret.length;
    }
  }
  return out;
}

describe('SecretScrubber', () => {
  let sut: SecretScrubber;
  beforeEach(() => {
    sut = new SecretScrubber();
  });

  it('replaces the secret part of a token and keeps the public bot id', () => {
    sut.add(...botSecrets({ token: TOKEN, secret: SECRET }));
    expect(sut.scrub(`Not Found: method /bot${TOKEN}/getMe not found`)).toBe(
      `Not Found: method /bot123456789:${R}/getMe not found`,
    );
    expect(sut.scrub(`https://bot.example.com/${encodeURIComponent(TOKEN)}`)).toBe(
      `https://bot.example.com/123456789%3A${R}`,
    );
    expect(tokenHalf(TOKEN)).toBe(HALF);
  });

  it('replaces a webhook secret wherever it stands, also inside a longer word', () => {
    sut.add(SECRET);
    expect(sut.scrub(SECRET)).toBe(R);
    expect(sut.scrub(`{"secret_token":"${SECRET}"}`)).toBe(`{"secret_token":"${R}"}`);
    expect(sut.scrub(`x${SECRET}y`)).toBe(`x${R}y`);
    expect(sut.scrub(`${SECRET}${SECRET}-${SECRET}`)).toBe(`${R}${R}-${R}`);
    expect(sut.scrub(`line 1\n  at ${SECRET}\n`)).toBe(`line 1\n  at ${R}\n`);
    // Part of a secret is not the secret.
    expect(sut.scrub(SECRET.slice(0, -1))).toBe(SECRET.slice(0, -1));
  });

  it('replaces the longer of two secrets when one contains the other, and weak short secrets too', () => {
    sut.add('abc', 'xxabcxx', 'k');
    expect(sut.scrub('xxabcxx abc xabcx kilo')).toBe(`${R} ${R} x${R}x ${R}ilo`);
  });

  it('changes nothing while it knows no secret', () => {
    const text = `a line with ${TOKEN} and ${SECRET}`;
    expect(sut.scrub(text)).toBe(text);
    expect(sut.size).toBe(0);
  });

  it('stops scrubbing a removed secret once every add of it is undone', () => {
    sut.add(SECRET, HALF);
    sut.add(SECRET);
    expect(sut.size).toBe(2);
    sut.remove(SECRET, HALF);
    expect(sut.scrub(`${SECRET} ${HALF}`)).toBe(`${R} ${HALF}`);
    sut.remove(SECRET);
    expect(sut.scrub(`${SECRET} ${HALF}`)).toBe(`${SECRET} ${HALF}`);
    sut.remove('never-added');
    expect(sut.size).toBe(0);
  });

  it('refuses a secret it could not find (outside the Bot API alphabet), without echoing it', () => {
    expect(() => sut.add('has space')).toThrow('a secret to scrub must be made of A-Z a-z 0-9 _ -');
    expect(() => sut.add('')).toThrow('A-Z a-z 0-9 _ -');
  });

  it('finds each of 20,000 secrets (10,000 bots) and scrubs a line in microseconds, not per secret', () => {
    const secrets: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      secrets.push(
        tokenHalf(
          `${7_000_000_000 + i}:AA${createHmac('sha1', 'half').update(String(i)).digest('base64url')}`,
        ),
      );
      secrets.push(deriveSecret(`${7_000_000_000 + i}:token`));
    }
    sut.add(...secrets);
    expect(sut.size).toBe(20_000);
    expect(sut.scrub(secrets.map((secret) => `<${secret}>`).join(' '))).toBe(
      secrets.map(() => `<${R}>`).join(' '),
    );

    const line = JSON.stringify({
      level: 40,
      time: 1_767_225_600_000,
      service: 'telegram-receiver',
      context: 'TelegramClient',
      msg: `setWebhook failed: 502 Bad Gateway: method /bot7000004242:${secrets[8_484]}/setWebhook; retrying in 0.3 s`,
    });
    const started = performance.now();
    for (let i = 0; i < 1_000; i++) sut.scrub(line);
    // About 10 ms here; a replacement per secret, or one alternation of all, takes seconds.
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(sut.scrub(line)).toContain(`/bot7000004242:${R}/setWebhook`);
  });

  it('equals the obvious scrubber on random text full of overlapping secrets', () => {
    const next = random(16);
    // A three-letter alphabet, so secrets overlap, contain each other and sit side by side.
    const pick = (length: number): string =>
      Array.from({ length }, () => 'ab-'[Math.floor(next() * 3)]).join('');
    for (let round = 0; round < 300; round++) {
      const secrets: string[] = [];
      for (let count = 1 + Math.floor(next() * 6); secrets.length < count;) {
        // Both kinds: shorter than the prefix index (8) and longer; some extend an earlier one.
        const base = next() < 0.4 ? (secrets[Math.floor(next() * secrets.length)] ?? '') : '';
        secrets.push(base + pick(1 + Math.floor(next() * 12)));
      }
      const text = Array.from({ length: 20 }, () =>
        next() < 0.4
          ? (secrets[Math.floor(next() * secrets.length)] as string)
          : pick(1) + (next() < 0.2 ? ' :' : ''),
      ).join('');
      const scrubber = new SecretScrubber();
      scrubber.add(...secrets);
      expect(scrubber.scrub(text)).toBe(referenceScrub(text, secrets));
    }
  });

  describe('scrubJson', () => {
    it('replaces a secret inside a JSON line, keeping the line byte for byte otherwise', () => {
      sut.add(HALF);
      const line = `{"level":50,"time":1767225600000,"msg":"getMe failed: /bot${TOKEN}/getMe"}\n`;
      expect(sut.scrubJson(line)).toBe(
        `{"level":50,"time":1767225600000,"msg":"getMe failed: /bot123456789:${R}/getMe"}\n`,
      );
      const untouched = '{"level":30,"msg":"nothing secret"}\n';
      expect(sut.scrubJson(untouched)).toBe(untouched);
    });

    it('keeps the line valid JSON when a short secret also matches a number or an escape', () => {
      sut.add('1767', 'nabc');
      const line = `{"level":30,"time":1767225600000,"msg":"secret 1767 and \\nabc","1767":["1767"]}\n`;
      const scrubbed = sut.scrubJson(line);
      expect(scrubbed.endsWith('\n')).toBe(true);
      expect(JSON.parse(scrubbed)).toEqual({
        level: 30,
        time: 1767225600000,
        // "\nabc" is a newline and "abc": not the secret "nabc".
        msg: `secret ${R} and \nabc`,
        [R]: [R],
      });
    });
  });
});

describe('configSecrets', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'scrubber-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("lists each bot's token half and secret (set, WEBHOOK_SECRET or derived) and WEBHOOK_SECRET", () => {
    const other = '987654321:BBHdqTcvCH1vGWJxfSeofSAs0K5PALDxyz';
    const third = '555555555:CCHdqTcvCH1vGWJxfSeofSAs0K5PALDqrs';
    const botsFile = join(dir, 'bots.yaml');
    writeFileSync(botsFile, `- token: "${other}"\n  secret: own-secret_123\n- token: "${third}"\n`);
    const withShared = loadConfig({
      TELEGRAM_TOKEN: TOKEN,
      BOTS_FILE: botsFile,
      WEBHOOK_SECRET: SECRET,
      TELEGRAM_SET_WEBHOOK: 'false',
    });
    expect(configSecrets(withShared)).toEqual([
      HALF,
      SECRET,
      tokenHalf(other),
      'own-secret_123',
      tokenHalf(third),
      SECRET,
      SECRET,
    ]);
    const derived = loadConfig({ TELEGRAM_TOKEN: TOKEN, TELEGRAM_SET_WEBHOOK: 'false' });
    expect(configSecrets(derived)).toEqual([HALF, deriveSecret(TOKEN)]);
  });
});
