import type { BotIdentity } from '../../src/bots/bot.js';
import type { InboundUpdate } from '../../src/publisher/publisher.interface.js';

/**
 * An update as UpdateIntake hands it to the publishers, for their unit tests: the body
 * `{"update_id":<id>,"<type>":{}}` (raw and payload alike) from bot 42, received at 0, unless
 * `fields` says otherwise.
 */
export function inboundUpdate(
  updateId: number,
  type = 'message',
  fields: Partial<InboundUpdate> = {},
): InboundUpdate {
  const body = Buffer.from(`{"update_id":${updateId},"${type}":{}}`);
  return {
    bot: { index: 1, id: 42, idText: '42' } as BotIdentity,
    updateId,
    type,
    raw: body,
    payload: body,
    receivedAt: 0,
    ...fields,
  };
}
