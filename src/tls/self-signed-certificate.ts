import { createPrivateKey, webcrypto, type X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';

export interface GeneratedCertificate {
  /** The certificate, PEM: served by the service and uploaded to Telegram with setWebhook. */
  readonly certPem: string;
  /** The private key, PKCS#8 PEM. */
  readonly keyPem: string;
}

/** RSA 2048 with SHA-256: what Telegram's own self-signed guide generates (core.telegram.org/bots/self-signed). */
const KEY_ALGORITHM = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
};

const DAY_MS = 86_400_000;

/** The host part of WEBHOOK_DOMAIN (`host`, `host:port`, `[v6]:port`): what the certificate must name. */
export function hostOf(domain: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(domain);
  if (bracketed) return bracketed[1] as string;
  return domain.replace(/:\d+$/, '');
}

/**
 * A self-signed certificate for `host`, valid `days` days from now, naming the host both as the
 * subject's CN and as the subject alternative name (DNS name, or IP address for an IP) — TLS
 * clients check the SAN, Telegram's documentation shows the CN.
 */
export async function generateSelfSignedCertificate(
  host: string,
  days: number,
): Promise<GeneratedCertificate> {
  // Loaded on demand: only `cert new` generates certificates, and the library is heavy for the
  // service to carry. It depends on tsyringe, which needs the Reflect polyfill first.
  await import('reflect-metadata');
  const {
    BasicConstraintsExtension,
    ExtendedKeyUsage,
    ExtendedKeyUsageExtension,
    KeyUsageFlags,
    KeyUsagesExtension,
    SubjectAlternativeNameExtension,
    X509CertificateGenerator,
  } = await import('@peculiar/x509');
  const keys = await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const notBefore = new Date(Date.now() - 60_000); // a little slack for clocks that are behind
  const certificate = await X509CertificateGenerator.createSelfSigned(
    {
      name: [{ CN: [host] }],
      notBefore,
      notAfter: new Date(notBefore.getTime() + 60_000 + days * DAY_MS),
      keys,
      signingAlgorithm: KEY_ALGORITHM,
      extensions: [
        new BasicConstraintsExtension(false, undefined, true),
        new KeyUsagesExtension(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment, true),
        new ExtendedKeyUsageExtension([ExtendedKeyUsage.serverAuth]),
        new SubjectAlternativeNameExtension([{ type: isIP(host) ? 'ip' : 'dns', value: host }]),
      ],
    },
    webcrypto,
  );
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
  return { certPem: certificate.toString('pem') + '\n', keyPem };
}

/** What `cert show` prints about a certificate. */
export interface CertificateSummary {
  readonly subject: string;
  readonly issuer: string;
  /** `DNS:example.com`, `IP Address:203.0.113.7`, … */
  readonly subjectAltNames: readonly string[];
  readonly validFrom: Date;
  readonly validTo: Date;
  readonly selfSigned: boolean;
  readonly fingerprint256: string;
}

/**
 * Issued by itself: same subject and issuer, signed with its own key. (Not `checkIssued`, which
 * also wants the keyCertSign usage a server certificate rightly lacks.)
 */
export function isSelfSigned(certificate: X509Certificate): boolean {
  return certificate.subject === certificate.issuer && certificate.verify(certificate.publicKey);
}

export function summarizeCertificate(certificate: X509Certificate): CertificateSummary {
  return {
    subject: certificate.subject.replace(/\n/g, ', '),
    issuer: certificate.issuer.replace(/\n/g, ', '),
    subjectAltNames: (certificate.subjectAltName ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name.length > 0),
    validFrom: new Date(certificate.validFrom),
    validTo: new Date(certificate.validTo),
    selfSigned: isSelfSigned(certificate),
    fingerprint256: certificate.fingerprint256,
  };
}
