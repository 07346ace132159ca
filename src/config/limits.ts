/**
 * Bounds on what configuration may hold. Each value is checked against its bound before it is
 * parsed or matched, so an oversized value (a file pasted into a variable, a runaway template)
 * is refused at once instead of costing seconds and gigabytes first. The README's "Configuration
 * limits" lists them.
 */

/** File paths and URLs (Linux's PATH_MAX), and comma-separated lists before they are split. */
export const MAX_PATH_LENGTH = 4096;

/** Host names, queue keys, channels, subjects, topics' parts: names a broker or resolver keeps. */
export const MAX_NAME_LENGTH = 512;

/** Bot tokens; webhook secrets are 1–256 characters by Telegram's rule. */
export const MAX_TOKEN_LENGTH = 256;

/** MQTT topic templates; the protocol allows 65,535 bytes, no deployment needs a thousandth of it. */
export const MAX_MQTT_TOPIC_LENGTH = 1024;

/** RabbitMQ exchange names are an AMQP short string: 255 bytes of UTF-8. */
export const MAX_EXCHANGE_BYTES = 255;

/** JetStream keeps each stream in a directory named after it, and file names stop at 255 bytes. */
export const MAX_STREAM_NAME_LENGTH = 255;

/** Update kinds in one list (`*_TYPES`, `allowed_updates`, a route): more than Telegram has. */
export const MAX_KINDS_PER_LIST = 64;

/** Targets named in one bot's `routes`. */
export const MAX_ROUTES = 64;

/**
 * Largest BOTS_FILE read: room for far more bots than a platform runs. YAML parsing time and memory
 * grow with the size, so a larger file is refused from its size alone, before it is read.
 */
export const MAX_BOTS_FILE_BYTES = 16 * 1024 * 1024;

/** Largest env file (ENV_FILE) read: settings are a few lines; a larger file is a mistake. */
export const MAX_ENV_FILE_BYTES = 1024 * 1024;

/** `NAME is 70000 characters long; the limit is 512` — the length, never the value. */
export function tooLong(name: string, length: number, limit: number): string {
  return `${name} is ${length} characters long; the limit is ${limit}`;
}

/** How a refusal names a character: printable ASCII quoted, anything else by its kind. */
export function describeCharacter(character: string): string {
  if (/\p{Cc}/u.test(character)) return 'a control character';
  if (character === ' ') return 'a space';
  if (/\s/u.test(character)) return 'a whitespace character';
  if (character.charCodeAt(0) > 0x7e) return 'a non-ASCII character';
  return `"${character}"`;
}
