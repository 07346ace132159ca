import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Bot } from '../bots/bot.js';
import { BotIdentifier } from '../bots/bot-identifier.service.js';
import { BotRegistry } from '../bots/bot-registry.service.js';
import { errorMessage } from '../common/error-message.js';
import { forEachLimited } from '../common/for-each-limited.js';
import { resolveBots, type BotConfig } from '../config/bots.js';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { MAX_BOTS_FILE_BYTES } from '../config/limits.js';
import { readWithin } from '../config/read-within.js';
import { BOT_API_CONCURRENCY } from '../telegram/telegram.client.js';
import { BotChangeError, RuntimeBots, sameConfig } from './runtime-bots.service.js';

/** Events of one save (an editor's write-and-rename, Kubernetes' symlink swap) come together: read once after them. */
const SETTLE_MS = 100;
/**
 * BOTS_FILE, followed while running: on a change of the file — edited in place, replaced, or
 * swapped by Kubernetes, which mounts a ConfigMap or Secret as a symlink into a `..data`
 * directory and renames a new symlink over it — and on SIGHUP, the file is read again and
 * diffed against the bots it gave: added bots are identified and registered, removed ones get
 * 404 and their webhook deleted (once across replicas), changed ones re-registered. The
 * directory is watched, not the file: a swap replaces the file, and a watch on it would go on
 * watching the old one. A file with any problem is refused whole and the running set stays.
 */
@Injectable()
export class BotsFileReloader implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(BotsFileReloader.name);
  private readonly file?: string;
  /** The file's bots served now, by token. */
  private served = new Map<string, Bot>();
  /** A hash of the text last applied (or refused): a watch event that changed nothing is ignored. */
  private lastSeen?: string;
  private watcher?: FSWatcher;
  private settle?: NodeJS.Timeout;
  private readonly onHangUp = (): void => void this.reload('SIGHUP');

  constructor(
    @Inject(RECEIVER_CONFIG) private readonly config: ReceiverConfig,
    private readonly registry: BotRegistry,
    private readonly identifier: BotIdentifier,
    private readonly runtime: RuntimeBots,
  ) {
    // Polling fetches for the bots it started with: the file is followed in webhook mode only.
    // With the shared store the file seeds the store at start, and the store is what is followed.
    if (config.settings.TELEGRAM_MODE === 'webhook' && config.settings.BOTS_STORE !== 'redis') {
      this.file = config.settings.BOTS_FILE;
    }
  }

  onApplicationBootstrap(): void {
    const file = this.file;
    if (file === undefined) return;
    // One map of the routed bots, not a search of them all per configured bot (10,000² steps).
    const routed = new Map(this.registry.all().map((bot) => [bot.token, bot]));
    for (const config of this.config.bots) {
      const bot = routed.get(config.token);
      if (bot) this.served.set(config.token, bot);
    }
    this.lastSeen = this.hashOf(file);
    const name = basename(file);
    this.watcher = watch(dirname(file), (_event, changed) => {
      // `..data` is Kubernetes' swap; a null name is an event the platform could not name.
      if (changed !== null && changed !== name && !changed.startsWith('..')) return;
      clearTimeout(this.settle);
      this.settle = setTimeout(() => void this.reload('change'), SETTLE_MS);
    });
    this.watcher.on('error', (error) =>
      this.logger.warn(`Watching BOTS_FILE stopped (${errorMessage(error)}); SIGHUP still reloads it`),
    );
    process.on('SIGHUP', this.onHangUp);
  }

  onApplicationShutdown(): void {
    clearTimeout(this.settle);
    this.watcher?.close();
    process.off('SIGHUP', this.onHangUp);
  }

  /** Reads the file again and applies what changed; never throws (a refusal is logged). */
  reload(reason: 'change' | 'SIGHUP'): Promise<void> {
    return this.runtime.serialised(async () => {
      const file = this.file;
      if (file === undefined) return;
      const seen = this.hashOf(file);
      if (reason === 'change' && seen === this.lastSeen) return;
      this.lastSeen = seen;
      try {
        await this.apply(seen ?? 'unreadable');
      } catch (error) {
        const problems = error instanceof BotChangeError ? error.problems : [errorMessage(error)];
        this.logger.error(
          `BOTS_FILE not reloaded (${reason}); still serving the ${this.served.size} bot(s) it had:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
        );
      }
    });
  }

  private async apply(name: string): Promise<void> {
    const problems: string[] = [];
    const endpoints = new Map([...this.served].map(([token, bot]) => [token, bot.endpoint]));
    const configs = resolveBots(this.config.settings, problems, endpoints);
    problems.push(...this.runtime.routeProblems(configs));
    if (problems.length > 0) throw new BotChangeError(problems);

    const next = new Map(configs.map((config) => [config.token, config]));
    const removed = [...this.served].filter(([token]) => !next.has(token)).map(([, bot]) => bot);
    const changed: Array<{ before: Bot; after: Bot }> = [];
    const fresh: BotConfig[] = [];
    for (const config of configs) {
      const before = this.served.get(config.token);
      if (!before) fresh.push(config);
      else if (!sameConfig(before, config)) {
        changed.push({ before, after: this.registry.create(config, before.id, before.username) });
      }
    }
    if (fresh.length === 0 && removed.length === 0 && changed.length === 0) {
      this.logger.log('BOTS_FILE reloaded: no bot changed');
      return;
    }
    const added: Bot[] = [];
    // Every new bot identified before anything changes: one the Bot API refuses refuses the file.
    await forEachLimited(fresh, BOT_API_CONCURRENCY, async (config) => {
      added.push(await this.identifier.lookUp(config));
    });
    await this.runtime.apply({ added, removed, changed, name: `file-${name}` });
    const served = new Map(this.served);
    for (const bot of removed) served.delete(bot.token);
    for (const bot of [...added, ...changed.map((c) => c.after)]) served.set(bot.token, bot);
    this.served = served;
    this.logger.log(
      `BOTS_FILE reloaded: ${added.length} added, ${removed.length} removed, ${changed.length} changed; ${served.size} bot(s) from it`,
    );
  }

  /** A hash of the file's text, or undefined when it cannot be read (then resolveBots says why). */
  private hashOf(file: string): string | undefined {
    const read = readWithin(file, MAX_BOTS_FILE_BYTES);
    if (!('text' in read)) return undefined;
    return createHash('sha256').update(read.text).digest('base64url').slice(0, 16);
  }
}
