/**
 * What an update's kind may be. The kind becomes part of MQTT topics, NATS subjects, AMQP routing
 * keys, Redis channels, headers and metric labels, so it must be a plain name: a kind such as
 * `a/#`, `+`, `a.b` or one with a NUL would change a topic's meaning or make a broker drop the
 * connection. Telegram's own kinds are lower-case snake_case names.
 */
export const KIND_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

/** The longest kind name KIND_PATTERN accepts. */
export const MAX_KIND_LENGTH = 64;

/**
 * Telegram's update kinds (Bot API 10.1, `../shared/TELEGRAM.md`). New kinds arrive several times
 * a year and are forwarded untouched; this list only decides which kinds get metric series of
 * their own (the rest count as `other`), so input cannot grow the number of series.
 */
export const TELEGRAM_UPDATE_KINDS: ReadonlySet<string> = new Set([
  'message',
  'edited_message',
  'channel_post',
  'edited_channel_post',
  'business_connection',
  'business_message',
  'edited_business_message',
  'deleted_business_messages',
  'guest_message',
  'message_reaction',
  'message_reaction_count',
  'inline_query',
  'chosen_inline_result',
  'callback_query',
  'shipping_query',
  'pre_checkout_query',
  'purchased_paid_media',
  'poll',
  'poll_answer',
  'my_chat_member',
  'chat_member',
  'chat_join_request',
  'chat_boost',
  'removed_chat_boost',
  'managed_bot',
]);

/** The label an update kind is counted under: its own name when Telegram's, `other` otherwise. */
export function metricKind(kind: string): string {
  return TELEGRAM_UPDATE_KINDS.has(kind) ? kind : 'other';
}
