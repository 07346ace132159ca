import type { Command } from 'commander';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import { NGROK_DOMAIN } from '../../registration/ngrok.js';
import {
  generateSelfSignedCertificate,
  hostOf,
  summarizeCertificate,
} from '../../tls/self-signed-certificate.js';
import { readCliEnvironment, type CliContext } from '../cli-context.js';
import { CliError, EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../cli.error.js';
import type { Runner } from './command-helpers.js';

export interface CertNewOptions {
  days?: string;
  domain?: string;
  cert?: string;
  key?: string;
  force?: boolean;
}

export interface CertShowOptions {
  cert?: string;
  key?: string;
}

/** Where `cert new` writes when neither WEBHOOK_CERT/WEBHOOK_KEY nor a flag says. */
const DEFAULT_CERT = 'webhook-cert.pem';
const DEFAULT_KEY = 'webhook-key.pem';
const MAX_DAYS = 3650;

/** `cert new | show`. */
export function certCommand(program: Command, context: CliContext, run: Runner): void {
  const cert = program
    .command('cert')
    .description('the self-signed HTTPS certificate (WEBHOOK_CERT, WEBHOOK_KEY)');
  cert
    .command('new')
    .description('create a self-signed certificate and key for WEBHOOK_DOMAIN (CN and SAN), PEM')
    .option('--days <n>', 'days of validity', '365')
    .option('--domain <host>', 'host name or IP address to certify (default: WEBHOOK_DOMAIN)')
    .option('--cert <path>', `certificate file (default: WEBHOOK_CERT, else ${DEFAULT_CERT})`)
    .option('--key <path>', `private key file (default: WEBHOOK_KEY, else ${DEFAULT_KEY})`)
    .option('--force', 'replace existing files')
    .action(run((options: CertNewOptions) => certNew(context, options)));
  cert
    .command('show')
    .description('print the certificate: subject, names, expiry, and whether the key matches')
    .option('--cert <path>', 'certificate file (default: WEBHOOK_CERT)')
    .option('--key <path>', 'private key file to check against it (default: WEBHOOK_KEY)')
    .action(run((options: CertShowOptions) => certShow(context, options)));
}

export async function certNew(context: CliContext, options: CertNewOptions): Promise<number> {
  const { output } = context;
  const env = readCliEnvironment(context);
  const domain = options.domain ?? (env.WEBHOOK_DOMAIN || undefined);
  if (domain === undefined) {
    throw new CliError('No host name to certify: set WEBHOOK_DOMAIN or pass --domain', EXIT_USAGE);
  }
  if (domain === NGROK_DOMAIN) {
    throw new CliError('WEBHOOK_DOMAIN=ngrok: ngrok serves its own certificate, none is needed', EXIT_USAGE);
  }
  const days = Number(options.days ?? '365');
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) {
    throw new CliError(`--days must be a whole number from 1 to ${MAX_DAYS}`, EXIT_USAGE);
  }
  const host = hostOf(domain);
  const certPath = options.cert ?? (env.WEBHOOK_CERT || DEFAULT_CERT);
  const keyPath = options.key ?? (env.WEBHOOK_KEY || DEFAULT_KEY);
  for (const path of [certPath, keyPath]) {
    if (!options.force && existsSync(path)) {
      throw new CliError(`${path} already exists: pass --force to replace it`, EXIT_USAGE);
    }
  }

  const { certPem, keyPem } = await generateSelfSignedCertificate(host, days);
  for (const path of [certPath, keyPath]) mkdirSync(dirname(path), { recursive: true });
  writeFileSync(keyPath, keyPem, { mode: 0o600 });
  writeFileSync(certPath, certPem, { mode: 0o644 });

  const summary = summarizeCertificate(new X509Certificate(certPem));
  output.line(`Wrote ${certPath} (certificate) and ${keyPath} (private key, readable by you only)`);
  output.line(`  subject:     ${summary.subject}`);
  output.line(`  names (SAN): ${summary.subjectAltNames.join(', ')}`);
  output.line(`  valid until: ${summary.validTo.toISOString()}`);
  if (
    resolve(certPath) !== resolve(env.WEBHOOK_CERT || '.') ||
    resolve(keyPath) !== resolve(env.WEBHOOK_KEY || '.')
  ) {
    output.line(`Serve it with: WEBHOOK_CERT=${resolve(certPath)} WEBHOOK_KEY=${resolve(keyPath)}`);
  }
  output.line('It is self-signed: the service uploads it with setWebhook, as Telegram requires.');
  if (isIP(host) === 0 && !host.includes('.')) {
    output.warn(`${host} is not a public host name: Telegram cannot reach it`);
  }
  return EXIT_OK;
}

export function certShow(context: CliContext, options: CertShowOptions): Promise<number> {
  const { output } = context;
  const env = readCliEnvironment(context);
  const certPath = options.cert ?? (env.WEBHOOK_CERT || undefined);
  if (certPath === undefined) {
    throw new CliError('No certificate to show: set WEBHOOK_CERT or pass --cert', EXIT_USAGE);
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(readFileSync(certPath));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(
      code ? `${certPath} cannot be read (${code})` : `${certPath} is not a PEM certificate`,
      EXIT_FAILED,
    );
  }
  const summary = summarizeCertificate(certificate);
  const expired = summary.validTo.getTime() < Date.now();
  const daysLeft = Math.round((summary.validTo.getTime() - Date.now()) / 86_400_000);
  output.line(`Certificate ${certPath}`);
  output.line(`  subject:     ${summary.subject}`);
  output.line(
    `  issuer:      ${summary.issuer}` +
      (summary.selfSigned ? ' (self-signed: uploaded to Telegram with setWebhook)' : ''),
  );
  output.line(`  names (SAN): ${summary.subjectAltNames.join(', ') || '(none)'}`);
  output.line(`  valid from:  ${summary.validFrom.toISOString()}`);
  output.line(
    `  valid until: ${summary.validTo.toISOString()} (${expired ? 'expired' : `${daysLeft} days left`})`,
  );
  output.line(`  SHA-256:     ${summary.fingerprint256}`);

  let failed = false;
  if (expired) {
    output.error('the certificate has expired: create a new one with "cert new --force"');
    failed = true;
  }
  const domain = env.WEBHOOK_DOMAIN || undefined;
  if (domain !== undefined && domain !== NGROK_DOMAIN) {
    const host = hostOf(domain);
    const names = isIP(host) ? certificate.checkIP(host) : certificate.checkHost(host);
    if (names === undefined)
      output.warn(`it does not name ${host} (WEBHOOK_DOMAIN): Telegram will refuse it`);
  }
  const keyPath = options.key ?? (env.WEBHOOK_KEY || undefined);
  if (keyPath !== undefined) {
    let matches = false;
    try {
      matches = certificate.checkPrivateKey(createPrivateKey(readFileSync(keyPath)));
    } catch {
      matches = false;
    }
    if (matches) output.line(`  key:         ${keyPath} matches`);
    else {
      output.error(`${keyPath} (WEBHOOK_KEY) is not a readable private key of this certificate`);
      failed = true;
    }
  }
  return Promise.resolve(failed ? EXIT_FAILED : EXIT_OK);
}
