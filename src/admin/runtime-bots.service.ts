import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Bot } from '../bots/bot.js';
import { BotRegistry } from '../bots/bot-registry.service.js';
import { forEachLimited } from '../common/for-each-limited.js';
import { errorMessage } from '../common/error-message.js';
import type { BotConfig } from '../config/bots.js';
import { botSecrets, knownSecrets } from '../logging/secret-scrubber.js';
import type { UpdatePublisher } from '../publisher/publisher.interface.js';
import { UPDATE_PUBLISHERS } from '../publisher/publisher.constants.js';
import { BOT_API_CONCURRENCY } from '../telegram/telegram.client.js';
import { WebhookRegistrar } from '../registration/webhook-registrar.service.js';
import { WebhookRemover } from '../registration/webhook-remover.service.js';
import { WebhookStates } from '../registration/webhook-states.js';

/** A change of the bots served, as one step: every bot in it identified (getMe) already. */
export interface BotSetChange {
  readonly added?: readonly Bot[];
  readonly removed?: readonly Bot[];
  /** A running bot and the one its new configuration makes (same getMe id). */
  readonly changed?: ReadonlyArray<{ readonly before: Bot; readonly after: Bot }>;
  /** deleteWebhook's drop_pending_updates for the removed bots. */
  readonly dropPending?: boolean;
  /** Names this change across replicas (a file's hash, a store version): one of them deletes a webhook. */
  readonly name: string;
  /**
   * false: the routing table changes and no webhook call is made — a change another replica made
   * through the shared store, which registers or deletes the webhook itself. Default true.
   */
  readonly webhooks?: boolean;
}

/** A change that was refused whole; `problems` say why, one line each, without a token or secret. */
export class BotChangeError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'BotChangeError';
  }
}

/**
 * Changes which bots are served while running — for BOTS_FILE reloads, the admin API and the
 * shared store alike: checks the change against the bots kept, swaps the routing table once,
 * scrubs the new bots' secrets from logs, registers new and changed webhooks (bounded, each
 * bot's 429 `retry_after` honoured by the client) and has removed ones deleted once.
 * Changes run one at a time.
 */
@Injectable()
export class RuntimeBots {
  private readonly logger = new Logger(RuntimeBots.name);
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly registry: BotRegistry,
    private readonly registrar: WebhookRegistrar,
    private readonly remover: WebhookRemover,
    private readonly states: WebhookStates,
    @Inject(UPDATE_PUBLISHERS) private readonly publishers: readonly UpdatePublisher[],
  ) {}

  /** Runs `work` after every change queued before it: a reload and an API call never interleave. */
  serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** What is wrong with new bot configurations beyond what `resolveBots` checks: routes to targets not in use. */
  routeProblems(configs: readonly BotConfig[]): string[] {
    const names = new Set(this.publishers.map((p) => p.name));
    return configs.flatMap((config) => {
      const unknown = [...(config.routes?.keys() ?? [])].filter((name) => !names.has(name));
      return unknown.length === 0
        ? []
        : [
            `${config.source}: routes names target(s) ${unknown.join(', ')} that are not in use; targets in use: ${[...names].join(', ')}`,
          ];
    });
  }

  /** Applies the change, or throws BotChangeError and changes nothing. */
  async apply(change: BotSetChange): Promise<void> {
    const added = change.added ?? [];
    const removed = change.removed ?? [];
    const changed = change.changed ?? [];
    const add = [...added, ...changed.map((c) => c.after)];
    const remove = [...removed, ...changed.map((c) => c.before)];
    const problems = this.registry.problems({ add, remove });
    if (problems.length > 0) throw new BotChangeError(problems);
    // Scrubbed before the first line that could name them, kept until the last.
    for (const bot of add) knownSecrets.add(...botSecrets(bot));
    this.registry.apply({ add, remove });
    for (const bot of remove) knownSecrets.remove(...botSecrets(bot));
    for (const bot of added) this.logger.log(`Now serving ${bot.label}`);
    for (const { after } of changed) this.logger.log(`Configuration of ${after.label} changed`);
    for (const bot of removed) {
      this.states.forget(bot);
      this.logger.log(`No longer serving ${bot.label}`);
    }
    if (change.webhooks !== false) await this.webhooks(change);
  }

  /**
   * The webhook calls of a change whose bots are routed already: setWebhook for added and
   * re-configured bots, deleteWebhook (once across replicas) for removed ones.
   */
  async webhooks(change: BotSetChange): Promise<void> {
    const added = change.added ?? [];
    const removed = change.removed ?? [];
    const changed = change.changed ?? [];
    const registrations = [
      ...added.map((bot) => ({ bot, force: false })),
      ...changed
        .filter(({ before, after }) => webhookChanged(before, after))
        .map(({ after }) => ({ bot: after, force: true })),
    ];
    await Promise.all([
      forEachLimited(registrations, BOT_API_CONCURRENCY, ({ bot, force }) => this.register(bot, force)),
      forEachLimited(removed, BOT_API_CONCURRENCY, async (bot) => {
        this.states.forget(bot);
        await this.remover.removeWebhook(bot, change.name, change.dropPending);
      }),
    ]);
  }

  private async register(bot: Bot, force: boolean): Promise<void> {
    if (!this.registrar.managing) return;
    try {
      // A bot changed since this change began is the later change's to register.
      if (!this.registry.routes(bot)) return;
      await (force ? this.registrar.register(bot) : this.registrar.ensureRegistered(bot));
    } catch (error) {
      this.logger.warn(
        `Registering the webhook of ${bot.label} failed (${errorMessage(error)}); the reconciler tries again`,
      );
    }
  }
}

/** Whether setWebhook must be called again: the URL, the secret or the update kinds differ. */
function webhookChanged(before: Bot, after: Bot): boolean {
  return (
    before.endpoint !== after.endpoint ||
    before.secret !== after.secret ||
    (before.allowedUpdates ?? []).join(',') !== (after.allowedUpdates ?? []).join(',')
  );
}

/** Whether two configurations of one bot serve it alike (its position in a file aside). */
export function sameConfig(bot: Bot, config: BotConfig): boolean {
  return (
    bot.endpoint === config.endpoint &&
    bot.secret === config.secret &&
    (bot.allowedUpdates ?? []).join(',') === (config.allowedUpdates ?? []).join(',') &&
    bot.redisQueue === config.redisQueue &&
    bot.mqttTopic === config.mqttTopic &&
    bot.kafkaTopic === config.kafkaTopic &&
    sameRoutes(bot.routes, config.routes)
  );
}

function sameRoutes(a: BotConfig['routes'], b: BotConfig['routes']): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.size !== b.size) return false;
  for (const [target, kinds] of a) {
    const other = b.get(target);
    if (other === undefined) return false;
    if (kinds === 'all' || other === 'all') {
      if (kinds !== other) return false;
      continue;
    }
    if (kinds.size !== other.size || [...kinds].some((kind) => !other.has(kind))) return false;
  }
  return true;
}
