import type { BotIdentity } from '../bots/bot.js';

/**
 * What a target receives as the message body. `raw`: the exact Update bytes Telegram sent.
 * `envelope`: those bytes wrapped with metadata, spliced in without re-serialising the update:
 * `{"bot":…,"update_id":…,"type":"…","received_at":<epoch ms>,"update":{…}}`.
 */
export function encodePayload(
  format: 'raw' | 'envelope',
  bot: BotIdentity,
  updateId: number,
  type: string,
  raw: Buffer,
  receivedAt: number,
): Buffer {
  if (format === 'raw') return raw;
  const head = `{"bot":${bot.idText},"update_id":${updateId},"type":${JSON.stringify(type)},"received_at":${receivedAt},"update":`;
  return Buffer.concat([Buffer.from(head), raw, CLOSE]);
}

const CLOSE = Buffer.from('}');
