import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { generateSelfSignedCertificate } from '../src/tls/self-signed-certificate.js';
import { startApp, type TestApp } from './support/app.js';
import { freePort } from './support/brokers.js';
import { FakeBotApi, realisticUpdate } from './support/fake-bot-api.js';
import { ReceiverProcess } from './support/receiver-process.js';

const BOT = {
  token: '7400000004:TlsSecretPartOfTheToken_abcdefghijklmn',
  id: 7400000004,
  username: 'tls_bot',
};

interface HttpsAnswer {
  status: number;
  fingerprint: string;
}

/** An HTTPS request that trusts only `ca`: it succeeds only if the service presents that certificate. */
function httpsPost(
  url: string,
  ca: string,
  body: string,
  headers: Record<string, string>,
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', ca, headers, agent: false }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, fingerprint }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const RSA = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
};

/** A certificate for `ip` issued by a throwaway CA (as a public CA would issue one), and that CA. */
async function caIssuedCertificate(ip: string): Promise<{ certPem: string; keyPem: string; caPem: string }> {
  const caKeys = await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: 'CN=Test Root CA',
      keys: caKeys,
      signingAlgorithm: RSA,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
      ],
    },
    webcrypto,
  );
  const keys = await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify']);
  const leaf = await x509.X509CertificateGenerator.create(
    {
      subject: `CN=${ip}`,
      issuer: ca.subject,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: RSA,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: ip }])],
    },
    webcrypto,
  );
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
  return { certPem: leaf.toString('pem'), keyPem, caPem: ca.toString('pem') };
}

describe('HTTPS with WEBHOOK_CERT and WEBHOOK_KEY', () => {
  let api: FakeBotApi;
  let dir: string;
  let certPem: string;
  let env: Record<string, string>;
  let app: TestApp | undefined;

  beforeAll(async () => {
    api = await FakeBotApi.start({ bots: [BOT] });
    dir = mkdtempSync(join(tmpdir(), 'tls-e2e-'));
    // What `telegram-receiver cert new` writes, for the address the tests connect to.
    const generated = await generateSelfSignedCertificate('127.0.0.1', 7);
    certPem = generated.certPem;
    writeFileSync(join(dir, 'cert.pem'), generated.certPem);
    writeFileSync(join(dir, 'key.pem'), generated.keyPem, { mode: 0o600 });
    env = {
      TELEGRAM_TOKEN: BOT.token,
      TELEGRAM_API_URL: api.url,
      WEBHOOK_DOMAIN: '127.0.0.1:8443',
      WEBHOOK_CERT: join(dir, 'cert.pem'),
      WEBHOOK_KEY: join(dir, 'key.pem'),
      MQTT_EMBEDDED_PORT: '0',
    };
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  afterAll(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('uploads the self-signed certificate with setWebhook, as multipart `certificate`', async () => {
    app = await startApp(env, { tls: true, listen: true });
    const [call] = api.calls('setWebhook');
    expect(call?.files?.certificate).toBeDefined();
    expect(call?.files?.certificate?.content.toString()).toBe(new X509Certificate(certPem).toString());
    expect(call?.params).toMatchObject({
      url: `https://127.0.0.1:8443/${app.config.bots[0]?.endpoint}`,
      secret_token: app.config.bots[0]?.secret,
      max_connections: '40',
    });
    expect(api.webhookInfo(BOT.token)).toMatchObject({ has_custom_certificate: true });
  });

  it('serves HTTPS with that certificate and accepts updates over it', async () => {
    app = await startApp(env, { tls: true, listen: true });
    const bot = app.config.bots[0];
    expect(app.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const answer = await httpsPost(
      `${app.url}/${bot?.endpoint}`,
      certPem,
      JSON.stringify(realisticUpdate(501)),
      {
        'content-type': 'application/json',
        'x-telegram-bot-api-secret-token': bot?.secret ?? '',
      },
    );
    expect(answer).toEqual({ status: 200, fingerprint: new X509Certificate(certPem).fingerprint256 });
  });

  it('uploads nothing when a CA issued the certificate: Telegram trusts it as it is', async () => {
    const issued = await caIssuedCertificate('127.0.0.1');
    writeFileSync(join(dir, 'issued-cert.pem'), issued.certPem);
    writeFileSync(join(dir, 'issued-key.pem'), issued.keyPem);
    app = await startApp(
      { ...env, WEBHOOK_CERT: join(dir, 'issued-cert.pem'), WEBHOOK_KEY: join(dir, 'issued-key.pem') },
      { tls: true, listen: true },
    );
    const [call] = api.calls('setWebhook').slice(-1);
    expect(call?.files).toBeUndefined();
    expect(api.webhookInfo(BOT.token)).toMatchObject({ has_custom_certificate: false });
    const bot = app.config.bots[0];
    const answer = await httpsPost(
      `${app.url}/${bot?.endpoint}`,
      issued.caPem,
      JSON.stringify(realisticUpdate(502)),
      {
        'content-type': 'application/json',
        'x-telegram-bot-api-secret-token': bot?.secret ?? '',
      },
    );
    expect(answer.status).toBe(200);
  });

  describe('the service process (node dist/main.js)', () => {
    it('listens with HTTPS', async () => {
      const port = await freePort();
      const receiver = await ReceiverProcess.start({
        ...env,
        WEBHOOK_PORT: String(port),
        WEBHOOK_BIND: '127.0.0.1',
      });
      try {
        expect(receiver.logs).toContain(`Receiving 1 bot(s) on https://127.0.0.1:${port}`);
        const answer = await httpsPost(`https://127.0.0.1:${port}/status/live`, certPem, '', {});
        expect(answer.fingerprint).toBe(new X509Certificate(certPem).fingerprint256);
      } finally {
        expect(await receiver.stop()).toBe(0);
      }
    });

    it('refuses to start with a certificate but no key, saying what to set', async () => {
      const receiver = await ReceiverProcess.start({ ...env, WEBHOOK_KEY: '' });
      expect(await receiver.exited).toBe(1);
      expect(receiver.logs).toContain('WEBHOOK_CERT and WEBHOOK_KEY go together');
    });
  });
});
