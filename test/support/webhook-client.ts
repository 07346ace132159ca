import type { TestApp } from './app.js';

/** What GET /status answers: Terminus's health-check result, loose enough for every target. */
export interface StatusBody {
  status?: string;
  info?: Record<string, { status: string; [k: string]: unknown }>;
  error?: Record<string, { status: string; reason?: string; [k: string]: unknown }>;
  details?: Record<string, { status: string; reason?: string; [k: string]: unknown }>;
}

/** A body with spacing and escapes a re-serialisation would change: the broker must get these bytes. */
export function oddlyFormatted(updateId: number): string {
  return `{"update_id":${updateId},  "message":{"message_id":7,"chat":{"id":42,"type":"private"},"date":1700000000,"text":"caf\\u00e9 \u2615"}}`;
}

/** POSTs `body` as Telegram would, with the secret header, to an app started with `listen: true`. */
export async function postUpdate(
  app: TestApp,
  body: string,
  secret: string,
  path = '/hook',
): Promise<Response> {
  return fetch(`${app.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
    body,
  });
}

/** GET /status: the HTTP code and the parsed body. */
export async function readStatus(app: TestApp): Promise<{ code: number; body: StatusBody }> {
  const response = await fetch(`${app.url}/status`);
  return { code: response.status, body: (await response.json()) as StatusBody };
}
