/**
 * What a worker needs from telegram-receiver's messages and from the Bot API — no dependency
 * beyond Node itself, so it can be copied into any project.
 */

/** The part of a Telegram Update this example reads; the rest is passed through untouched. */
export interface Update {
  update_id: number;
  message?: { message_id: number; chat: { id: number }; text?: string };
  [kind: string]: unknown;
}

/** One update as delivered, whichever PUBLISH_FORMAT the receiver runs with. */
export interface ReceivedUpdate {
  update: Update;
  /** The bot's user id; from the envelope, or from where the message came (queue field, topic, header). */
  bot?: number;
  /** The update's kind: its one key besides `update_id`. */
  type: string;
  /** Epoch ms when the receiver got it (envelope format only). */
  receivedAt?: number;
}

interface Envelope {
  bot: number;
  update_id: number;
  type: string;
  received_at: number;
  update: Update;
}

function isEnvelope(value: unknown): value is Envelope {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Envelope).update === 'object' &&
    typeof (value as Envelope).received_at === 'number'
  );
}

/**
 * Reads a message body: the plain Update JSON (PUBLISH_FORMAT=raw, the default) or the envelope
 * `{"bot","update_id","type","received_at","update"}` (PUBLISH_FORMAT=envelope).
 */
export function decodeUpdate(body: Buffer | Uint8Array | string | object, bot?: number): ReceivedUpdate {
  const value: unknown =
    typeof body === 'string' || body instanceof Uint8Array
      ? JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'))
      : body;
  if (isEnvelope(value)) {
    return { update: value.update, bot: value.bot, type: value.type, receivedAt: value.received_at };
  }
  const update = value as Update;
  const type = Object.keys(update).find((key) => key !== 'update_id') ?? 'unknown';
  return { update, bot, type };
}

/** A Bot API answer that is not worth retrying (bad request, bot blocked by the user, …). */
export class PermanentBotApiError extends Error {}

/**
 * Calls sendMessage. Resolves when Telegram accepted it; throws PermanentBotApiError for answers
 * a retry cannot fix (4xx other than 429) and a plain Error for the rest (429, 5xx, network),
 * which the caller retries.
 */
export async function sendMessage(
  apiUrl: string,
  token: string,
  chatId: number,
  text: string,
): Promise<void> {
  const response = await fetch(`${apiUrl.replace(/\/+$/, '')}/bot${token}/sendMessage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ chat_id: chatId, text }),
    signal: AbortSignal.timeout(10_000),
  });
  if (response.ok) return;
  const body = (await response.json().catch(() => ({}))) as {
    description?: string;
    parameters?: { retry_after?: number };
  };
  const reason = `sendMessage answered ${response.status}: ${body.description ?? response.statusText}`;
  if (response.status === 429 || response.status >= 500) {
    throw Object.assign(new Error(reason), { retryAfterSeconds: body.parameters?.retry_after });
  }
  throw new PermanentBotApiError(reason);
}

/** The bot's user id is the number before the colon of its token. */
export function botIdOf(token: string): number {
  return Number(token.split(':', 1)[0]);
}
