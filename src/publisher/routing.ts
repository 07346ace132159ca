import type { BotConfig } from '../config/bots.js';
import type { InboundUpdate, UpdatePublisher } from './publisher.interface.js';

/**
 * Whether an update goes to a target: the bot's own route for that target when BOTS_FILE gives
 * one (`all`, or a set of kinds), the target's filter (`*_TYPES`) otherwise.
 */
export function routesTo(publisher: UpdatePublisher, update: InboundUpdate): boolean {
  const route = update.bot.routes?.get(publisher.name);
  if (route === undefined) return publisher.types === undefined || publisher.types.has(update.type);
  return route === 'all' || route.has(update.type);
}

/**
 * Whether a target's filter or the bot's routes name the update's kind. Every kind none of them
 * names goes to the same targets (those without a filter, or routed `all`).
 */
export function namesKind(publishers: readonly UpdatePublisher[], update: InboundUpdate): boolean {
  for (const publisher of publishers) if (publisher.types?.has(update.type)) return true;
  const routes = update.bot.routes;
  if (routes) for (const route of routes.values()) if (route !== 'all' && route.has(update.type)) return true;
  return false;
}

/**
 * Refuses, at boot, a bot that routes to a target not in use — most likely a typo, which would
 * otherwise silently send that bot's updates nowhere.
 */
export function validateBotRoutes(publishers: readonly UpdatePublisher[], bots: readonly BotConfig[]): void {
  const names = new Set(publishers.map((p) => p.name));
  const problems: string[] = [];
  for (const bot of bots) {
    const unknown = [...(bot.routes?.keys() ?? [])].filter((name) => !names.has(name));
    if (unknown.length > 0) {
      problems.push(
        `${bot.source}: routes names target(s) ${unknown.join(', ')} that are not in use; targets in use: ${[...names].join(', ')}`,
      );
    }
  }
  if (problems.length > 0) throw new Error(`Invalid BOTS_FILE routes:\n  - ${problems.join('\n  - ')}`);
}
