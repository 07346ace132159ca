import type { BotIdentity } from '../bots/bot.js';

/**
 * Expands `{bot}` and `{type}` in a topic, subject, channel or routing-key template. The bot part
 * is expanded once per bot and cached, so the hot path does one replacement.
 */
export class TopicTemplate {
  private readonly perBot = new Map<string, string[]>();

  constructor(readonly template: string) {}

  render(botId: string, type: string): string {
    let parts = this.perBot.get(botId);
    if (!parts) {
      parts = this.template.replaceAll('{bot}', botId).split('{type}');
      this.perBot.set(botId, parts);
    }
    return parts.length === 1 ? (parts[0] as string) : parts.join(type);
  }
}

/**
 * A target's topic for each bot: the bot's own template (`mqtt_topic`, `kafka_topic`), parsed at
 * its first use — for bots added while running too — else the target's own. Kept by bot index,
 * which the registry never hands to another bot nor to a changed configuration.
 */
export class BotTopics {
  private readonly own: (TopicTemplate | undefined)[] = [];

  constructor(
    private readonly fallback: TopicTemplate,
    private readonly ownTemplate: (bot: BotIdentity) => string | undefined,
  ) {}

  of(bot: BotIdentity): TopicTemplate {
    const own = this.ownTemplate(bot);
    if (own === undefined) return this.fallback;
    return (this.own[bot.index] ??= new TopicTemplate(own));
  }
}

/**
 * The template as a subscription pattern: every `separator`-delimited token holding `{bot}` or
 * `{type}` becomes `wildcard` — `telegram.{bot}.{type}` → `telegram.*.*` for a NATS stream's
 * subjects or a Redis PSUBSCRIBE. Whole tokens only, as NATS wildcards cannot match part of one.
 */
export function wildcardPattern(template: string, separator: string, wildcard: string): string {
  return template
    .split(separator)
    .map((token) => (token.includes('{bot}') || token.includes('{type}') ? wildcard : token))
    .join(separator);
}
