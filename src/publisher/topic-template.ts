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
