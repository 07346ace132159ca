import type { WebhookInfo } from '../../telegram/telegram.types.js';

/**
 * Turns a command body (resolving to its exit code) into a commander action; `runCli` provides
 * it, keeps the code, and reports errors.
 */
export type Runner = <A extends unknown[]>(
  body: (...args: A) => Promise<number>,
) => (...args: A) => Promise<void>;

/** `2026-01-02T03:04:05.000Z: Connection refused`, or undefined when Telegram reports no error. */
export function describeWebhookError(info: WebhookInfo): string | undefined {
  if (!info.last_error_date) return undefined;
  const when = new Date(info.last_error_date * 1000).toISOString();
  return `${when}: ${info.last_error_message ?? 'no message'}`;
}

/** Ports Telegram delivers webhooks to (core.telegram.org/bots/api#setwebhook). */
export const TELEGRAM_WEBHOOK_PORTS: readonly number[] = [443, 80, 88, 8443];

/** A warning when the public URL's port is one Telegram will not deliver to. */
export function webhookPortWarning(domain: string): string | undefined {
  const port = /:(\d+)$/.exec(domain)?.[1];
  if (port === undefined || TELEGRAM_WEBHOOK_PORTS.includes(Number(port))) return undefined;
  return (
    `the webhook URL uses port ${port}, but Telegram only delivers to ports ${TELEGRAM_WEBHOOK_PORTS.join(', ')} ` +
    '(a local Bot API server in --local mode accepts any port)'
  );
}
