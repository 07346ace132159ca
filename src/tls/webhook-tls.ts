import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ConfigurationError } from '../config/load-settings.js';
import type { Settings } from '../config/settings.js';
import { hostOf, isSelfSigned } from './self-signed-certificate.js';

/** The service's own HTTPS certificate and key, read and checked once at boot. */
export interface WebhookTls {
  /** The file contents as given (a chain stays a chain) — what the HTTPS server presents. */
  readonly cert: Buffer;
  readonly key: Buffer;
  /** The leaf certificate. */
  readonly certificate: X509Certificate;
  /**
   * Issued by itself: Telegram trusts it only when it is uploaded with setWebhook as the
   * `certificate` file (core.telegram.org/bots/self-signed), which the registration then does.
   */
  readonly selfSigned: boolean;
  /** Things that will probably make Telegram's deliveries fail, though the service can start. */
  readonly warnings: readonly string[];
}

type TlsSettings = Pick<Settings, 'WEBHOOK_CERT' | 'WEBHOOK_KEY' | 'WEBHOOK_DOMAIN'>;

/**
 * Reads WEBHOOK_CERT and WEBHOOK_KEY when set (both or neither), checks that the key belongs to the
 * certificate and that it has not expired; throws ConfigurationError listing every problem.
 */
export function loadWebhookTls(settings: TlsSettings, now = new Date()): WebhookTls | undefined {
  const { WEBHOOK_CERT: certPath, WEBHOOK_KEY: keyPath } = settings;
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (certPath === undefined || keyPath === undefined) {
    throw new ConfigurationError([
      'WEBHOOK_CERT and WEBHOOK_KEY go together: set both to serve HTTPS, or neither',
    ]);
  }
  const problems: string[] = [];
  const cert = readPem('WEBHOOK_CERT', certPath, problems);
  const key = readPem('WEBHOOK_KEY', keyPath, problems);
  let certificate: X509Certificate | undefined;
  let privateKey: KeyObject | undefined;
  if (cert) {
    try {
      certificate = new X509Certificate(cert);
    } catch {
      problems.push(`WEBHOOK_CERT ${certPath} is not a PEM certificate`);
    }
  }
  if (key) {
    try {
      privateKey = createPrivateKey(key);
    } catch {
      // The parser's message could quote key material: report the file only.
      problems.push(`WEBHOOK_KEY ${keyPath} is not an unencrypted PEM private key`);
    }
  }
  if (certificate && privateKey && !certificate.checkPrivateKey(privateKey)) {
    problems.push(`WEBHOOK_KEY ${keyPath} is not the private key of the certificate in WEBHOOK_CERT`);
  }
  if (certificate && new Date(certificate.validTo) < now) {
    problems.push(
      `WEBHOOK_CERT ${certPath} expired on ${new Date(certificate.validTo).toISOString()}: renew it (npx telegram-receiver cert new)`,
    );
  }
  if (problems.length > 0 || !certificate || !cert || !key) throw new ConfigurationError(problems);

  const warnings: string[] = [];
  const domain = settings.WEBHOOK_DOMAIN;
  // With ngrok, ngrok's own certificate is the one Telegram sees.
  if (domain !== undefined && domain !== 'ngrok') {
    const host = hostOf(domain);
    const matches = isIP(host) ? certificate.checkIP(host) : certificate.checkHost(host);
    if (matches === undefined) {
      warnings.push(
        `WEBHOOK_CERT does not name ${host} (WEBHOOK_DOMAIN): Telegram will refuse the connection; create one with npx telegram-receiver cert new`,
      );
    }
  }
  return { cert, key, certificate, selfSigned: isSelfSigned(certificate), warnings };
}

function readPem(name: string, path: string, problems: string[]): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (error) {
    problems.push(`${name} ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}
