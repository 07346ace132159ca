import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError } from '../config/load-settings.js';
import { generateSelfSignedCertificate, hostOf } from './self-signed-certificate.js';
import { loadWebhookTls } from './webhook-tls.js';

describe('loadWebhookTls', () => {
  let dir: string;
  let cert: string;
  let key: string;
  let otherKey: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tls-spec-'));
    const pair = await generateSelfSignedCertificate('bot.example.com', 30);
    const other = await generateSelfSignedCertificate('bot.example.com', 30);
    cert = join(dir, 'cert.pem');
    key = join(dir, 'key.pem');
    otherKey = join(dir, 'other-key.pem');
    writeFileSync(cert, pair.certPem);
    writeFileSync(key, pair.keyPem);
    writeFileSync(otherKey, other.keyPem);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is off without WEBHOOK_CERT and WEBHOOK_KEY', () => {
    expect(loadWebhookTls({})).toBeUndefined();
  });

  it('reads a matching pair and knows it is self-signed', () => {
    const tls = loadWebhookTls({
      WEBHOOK_CERT: cert,
      WEBHOOK_KEY: key,
      WEBHOOK_DOMAIN: 'bot.example.com:8443',
    });
    expect(tls?.selfSigned).toBe(true);
    expect(tls?.warnings).toEqual([]);
    expect(tls?.certificate.subjectAltName).toBe('DNS:bot.example.com');
  });

  it('warns when the certificate does not name WEBHOOK_DOMAIN', () => {
    const tls = loadWebhookTls({
      WEBHOOK_CERT: cert,
      WEBHOOK_KEY: key,
      WEBHOOK_DOMAIN: 'elsewhere.example.com',
    });
    expect(tls?.warnings).toEqual([expect.stringContaining('does not name elsewhere.example.com')]);
  });

  it.each([
    [{ WEBHOOK_CERT: 'x' }, 'WEBHOOK_CERT and WEBHOOK_KEY go together'],
    [
      { WEBHOOK_CERT: '/nonexistent/cert.pem', WEBHOOK_KEY: '/nonexistent/key.pem' },
      'cannot be read (ENOENT)',
    ],
  ])('rejects %p', (settings, message) => {
    expect(() => loadWebhookTls(settings)).toThrow(ConfigurationError);
    expect(() => loadWebhookTls(settings)).toThrow(message);
  });

  it('rejects a key that is not the certificate’s, and an expired certificate', () => {
    expect(() => loadWebhookTls({ WEBHOOK_CERT: cert, WEBHOOK_KEY: otherKey })).toThrow(
      'is not the private key of the certificate',
    );
    const later = new Date(Date.now() + 40 * 86_400_000);
    expect(() => loadWebhookTls({ WEBHOOK_CERT: cert, WEBHOOK_KEY: key }, later)).toThrow(/expired on/);
  });

  it('never echoes key material when the key does not parse', () => {
    const bad = join(dir, 'bad-key.pem');
    writeFileSync(
      bad,
      '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----\n',
    );
    expect(() => loadWebhookTls({ WEBHOOK_CERT: cert, WEBHOOK_KEY: bad })).toThrow(
      new ConfigurationError([`WEBHOOK_KEY ${bad} is not an unencrypted PEM private key`]),
    );
  });
});

describe('hostOf', () => {
  it.each([
    ['bot.example.com', 'bot.example.com'],
    ['bot.example.com:8443', 'bot.example.com'],
    ['203.0.113.7:88', '203.0.113.7'],
    ['[2001:db8::1]:443', '2001:db8::1'],
  ])('%s → %s', (domain, host) => expect(hostOf(domain)).toBe(host));
});
