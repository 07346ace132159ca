import { SECRET_SETTINGS, type Settings } from '../config/settings.js';

/** `123456:AA…` → `123456:***`: the bot id part is public (it is the bot's user id), the rest is not. */
export function maskToken(token: string): string {
  const colon = token.indexOf(':');
  return colon === -1 ? '***' : `${token.slice(0, colon)}:***`;
}

/** Replaces every occurrence of the token (WEBHOOK_ENDPOINT=token puts it in URLs) with `<token>`. */
export function withoutToken(text: string, token: string): string {
  return token.length > 0 ? text.split(token).join('<token>') : text;
}

/** A URL with its password (and a user that looks like a key) replaced by `***`. */
export function maskUrlCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password && !parsed.username) return url;
    if (parsed.password) parsed.password = '***';
    else parsed.username = '***';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}

/** How `config check` shows one setting's value. */
export function displaySetting(name: string, value: Settings[keyof Settings]): string {
  if (value === undefined) return '(not set)';
  if (SECRET_SETTINGS.has(name))
    return name === 'TELEGRAM_TOKEN' && typeof value === 'string' ? maskToken(value) : '***';
  if (Array.isArray(value)) {
    const items = value.map((item) => (typeof item === 'string' ? item : item.text));
    return items.length === 0 ? '(none)' : items.join(',');
  }
  if (typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return maskUrlCredentials(value);
  return String(value);
}
