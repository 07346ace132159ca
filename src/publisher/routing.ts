import type { BotConfig } from '../config/bots.js';
import type { InboundUpdate, PublishResult, UpdatePublisher } from './publisher.interface.js';

/**
 * Applies the per-bot `routes` of BOTS_FILE to the publishers in use. A target that no bot
 * re-routes is returned untouched, so its own `types` filter (from `*_TYPES`) keeps doing the
 * routing in PublishService at no cost. A target some bot re-routes is wrapped: its `types`
 * becomes "every kind" for PublishService and the wrapper decides per bot instead.
 *
 * Throws at boot when a bot routes to a target that is not in use — most likely a typo, which
 * would otherwise silently send that bot's updates nowhere.
 */
export function applyBotRoutes(
  publishers: readonly UpdatePublisher[],
  bots: readonly BotConfig[],
): UpdatePublisher[] {
  const names = new Set(publishers.map((p) => p.name));
  const problems: string[] = [];
  const rerouted = new Set<string>();
  for (const bot of bots) {
    const unknown = [...(bot.routes?.keys() ?? [])].filter((name) => !names.has(name));
    if (unknown.length > 0) {
      problems.push(
        `${bot.source}: routes names target(s) ${unknown.join(', ')} that are not in use; targets in use: ${[...names].join(', ')}`,
      );
    }
    for (const name of bot.routes?.keys() ?? []) rerouted.add(name);
  }
  if (problems.length > 0) throw new Error(`Invalid BOTS_FILE routes:\n  - ${problems.join('\n  - ')}`);
  return publishers.map((p) => (rerouted.has(p.name) ? routedPerBot(p) : p));
}

/**
 * What a target answers for an update its bot does not route there: nothing was written, which
 * is what `duplicate` says — so metrics count no publish to it, and an update some other target
 * published still counts as published.
 */
const NOT_ROUTED: Promise<PublishResult> = Promise.resolve('duplicate');

/**
 * The publisher seen through its per-bot routes. A Proxy rather than a wrapper class so that
 * everything else a publisher exposes — `deduplicates`, `health()`, a plug-in's own members,
 * `instanceof` — stays exactly the publisher's.
 */
function routedPerBot(publisher: UpdatePublisher): UpdatePublisher {
  const ownTypes = publisher.types;
  const publish = (update: InboundUpdate): Promise<PublishResult> => {
    const route = update.bot.routes?.get(publisher.name);
    const routed =
      route === undefined ? (ownTypes?.has(update.type) ?? true) : route === 'all' || route.has(update.type);
    return routed ? publisher.publish(update) : NOT_ROUTED;
  };
  return new Proxy(publisher, {
    get(target, property, receiver) {
      if (property === 'types') return undefined;
      if (property === 'publish') return publish;
      const value: unknown = Reflect.get(target, property, receiver);
      // Methods run against the publisher itself, not the proxy.
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
