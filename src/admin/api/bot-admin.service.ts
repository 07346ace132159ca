import {
  BadGatewayException,
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
  ServiceUnavailableException,
  UnprocessableEntityException,
} from '@nestjs/common';
import type { Bot } from '../../bots/bot.js';
import { BotRegistry } from '../../bots/bot-registry.service.js';
import { BotStore } from '../../bots/store/bot-store.service.js';
import type { StoredBot } from '../../bots/store/stored-bot.js';
import { errorMessage } from '../../common/error-message.js';
import { ADMIN_PATHS } from '../../config/admin-settings.js';
import { plainRoutes, resolveBotEntries, type BotConfig } from '../../config/bots.js';
import { RECEIVER_CONFIG } from '../../config/config.constants.js';
import type { ReceiverConfig } from '../../config/load-settings.js';
import { WebhookRegistrar } from '../../registration/webhook-registrar.service.js';
import { WebhookStates } from '../../registration/webhook-states.js';
import { TelegramApiError } from '../../telegram/telegram-api.error.js';
import { TelegramClient } from '../../telegram/telegram.client.js';
import { BotStoreFollower } from '../bot-store-follower.service.js';
import { BotChangeError, RuntimeBots } from '../runtime-bots.service.js';
import type { BotList, BotView, CreateBotDto, UpdateBotDto } from './bot-admin.dto.js';

/** How problems with a request's bot name it. */
const REQUEST = 'request';
/** How logs and the API name a bot added through the API. */
const SOURCE = 'admin API';

/**
 * What the admin API does: adds, changes and removes bots through RuntimeBots (the routing
 * table, the webhook, log scrubbing), with BOTS_FILE's rules for what a bot may say. With
 * BOTS_STORE=none a bot added here lives in this process, and bots from BOTS_FILE or
 * TELEGRAM_TOKEN are shown but changed where they are written. With BOTS_STORE=redis every change
 * is written to the shared store first (a bot stored twice, by any replica, is 409), this
 * replica's routing table brought to it, and then this replica — and no other — calls setWebhook
 * or deleteWebhook; the others only swap their routing table when the change reaches them.
 */
@Injectable()
export class BotAdmin {
  /** The entries of bots added here, by getMe id, as they were given: a PATCH applies to them. */
  private readonly entries = new Map<number, Readonly<Record<string, unknown>>>();

  constructor(
    @Inject(RECEIVER_CONFIG) private readonly config: ReceiverConfig,
    private readonly registry: BotRegistry,
    private readonly telegram: TelegramClient,
    private readonly runtime: RuntimeBots,
    private readonly registrar: WebhookRegistrar,
    private readonly states: WebhookStates,
    private readonly store: BotStore,
    private readonly follower: BotStoreFollower,
  ) {}

  async create(body: CreateBotDto): Promise<BotView> {
    const entry = defined({ ...body });
    const config = this.resolve(entry);
    if (this.registry.all().some((bot) => bot.token === config.token)) {
      throw new ConflictException('this bot token is already served');
    }
    const me = await this.getMe(config.token);
    if (this.store.enabled) {
      return this.change(async () => {
        const stored = { config, id: me.id, username: me.username, entry, secretGiven: 'secret' in entry };
        const version = await this.reach(this.store.create(this.checked(stored)));
        if (version === undefined) throw new ConflictException(`bot ${me.id} is already in the bot store`);
        const bot = await this.routedAt(version, me.id);
        await this.runtime.webhooks({ added: [bot], name: `store-${version}` });
        return this.view(bot);
      });
    }
    return this.change(async () => {
      const bot = this.registry.create(config, me.id, me.username);
      await this.runtime.apply({ added: [bot], name: `admin-add-${bot.idText}-${Date.now()}` });
      this.entries.set(bot.id, entry);
      return this.view(bot);
    });
  }

  list(offset: number, limit: number): BotList {
    const bots = this.registry.all().sort((a, b) => a.id - b.id);
    return {
      bots: bots.slice(offset, offset + limit).map((bot) => this.view(bot)),
      total: bots.length,
      offset,
      limit,
    };
  }

  get(id: number): BotView {
    return this.view(this.find(id));
  }

  async update(id: number, patch: UpdateBotDto): Promise<BotView> {
    const before = this.find(id);
    if (this.store.enabled) return this.change(() => this.updateStored(before, patch));
    const entry = this.ownEntry(before);
    const next = defined({ ...entry, ...patch });
    const served = new Map([[before.token, before.endpoint]]);
    const config = this.resolve(next, served);
    return this.change(async () => {
      const after = this.registry.create(config, before.id, before.username);
      await this.runtime.apply({
        changed: [{ before, after }],
        name: `admin-change-${before.idText}-${Date.now()}`,
      });
      this.entries.set(id, next);
      return this.view(after);
    });
  }

  async remove(id: number, dropPending: boolean): Promise<void> {
    const bot = this.find(id);
    if (this.store.enabled) {
      return this.change(async () => {
        const version = await this.reach(this.store.delete(id));
        if (version === undefined) throw new NotFoundException(`no bot ${id} is in the bot store`);
        await this.follower.catchUp({ version, id });
        await this.runtime.webhooks({ removed: [bot], dropPending, name: `store-${version}` });
      });
    }
    this.ownEntry(bot);
    await this.change(async () => {
      await this.runtime.apply({
        removed: [bot],
        dropPending,
        name: `admin-remove-${bot.idText}-${Date.now()}`,
      });
      this.entries.delete(id);
    });
  }

  /** A PATCH of a stored bot: merged into the entry the store holds, which any replica may have written. */
  private async updateStored(before: Bot, patch: UpdateBotDto): Promise<BotView> {
    const { bot: stored } = await this.reach(this.store.read(before.id));
    if (!stored) throw new NotFoundException(`no bot ${before.id} is in the bot store`);
    const { token, secret, endpoint, source } = stored.config;
    const next = defined({ ...stored.entry, token, ...(stored.secretGiven && { secret }), ...patch });
    const config = { ...this.resolve(next, new Map([[token, endpoint]])), source };
    const change = { ...stored, config, entry: next, secretGiven: 'secret' in next };
    const version = await this.reach(this.store.replace(this.checked(change, before)));
    if (version === undefined) throw new NotFoundException(`no bot ${before.id} is in the bot store`);
    const after = await this.routedAt(version, before.id);
    await this.runtime.webhooks({ changed: [{ before, after }], name: `store-${version}` });
    return this.view(after);
  }

  /** A call to the bot store; Redis out of reach is 503, which a client may retry. */
  private async reach<T>(call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (error) {
      throw new ServiceUnavailableException(`the bot store cannot be reached: ${errorMessage(error)}`);
    }
  }

  /** The stored bot, unless routing it here would clash (its path taken by another bot): 409 then. */
  private checked(stored: StoredBot, replacing?: Bot): StoredBot {
    const candidate = this.registry.create(stored.config, stored.id, stored.username);
    const problems = this.registry.problems({ add: [candidate], remove: replacing ? [replacing] : [] });
    if (problems.length > 0) throw new BotChangeError(problems);
    return stored;
  }

  /** This replica's routing table brought to `version` of the store; the bot as it routes it now. */
  private async routedAt(version: number, id: number): Promise<Bot> {
    await this.follower.catchUp({ version, id });
    const bot = this.registry.findById(id);
    if (!bot) throw new ConflictException(`bot ${id} is stored but could not be routed here: see the logs`);
    return bot;
  }

  /** The entry checked by BOTS_FILE's rules, as the bot's configuration; 400 naming each problem. */
  private resolve(entry: Record<string, unknown>, served?: ReadonlyMap<string, string>): BotConfig {
    const problems: string[] = [];
    const [config] = resolveBotEntries(this.config.settings, [{ source: REQUEST, entry }], problems, served);
    if (config) {
      problems.push(...this.runtime.routeProblems([config]));
      if (config.endpoint === config.token) {
        problems.push(`${REQUEST}: endpoint token would put the token in the URL; use hash or a path`);
      }
      if (ADMIN_PATHS.has(config.endpoint)) {
        problems.push(`${REQUEST}: endpoint "${config.endpoint}" is a path of the admin API; choose another`);
      }
    }
    if (problems.length > 0 || !config) throw new BadRequestException(problems.join('; '));
    return { ...config, source: SOURCE };
  }

  private async getMe(token: string): Promise<{ id: number; username?: string }> {
    try {
      return await this.telegram.getMe(token);
    } catch (error) {
      if (error instanceof TelegramApiError && error.errorCode < 500 && error.errorCode !== 429) {
        throw new UnprocessableEntityException(
          `the Bot API rejected the token (getMe: ${error.errorCode} ${error.description ?? ''})`.trim(),
        );
      }
      throw new BadGatewayException(`getMe failed: ${errorMessage(error)}`);
    }
  }

  /** Runs a change after the others; a refused change is 409 with its reasons. */
  private async change<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await this.runtime.serialised(work);
    } catch (error) {
      if (error instanceof BotChangeError) throw new ConflictException(error.problems.join('; '));
      throw error;
    }
  }

  private find(id: number): Bot {
    const bot = this.registry.findById(id);
    if (!bot) throw new NotFoundException(`no bot ${id} is served`);
    return bot;
  }

  private ownEntry(bot: Bot): Readonly<Record<string, unknown>> {
    const entry = this.entries.get(bot.id);
    if (!entry) {
      throw new ConflictException(`bot ${bot.id} comes from ${bot.source}: change or remove it there`);
    }
    return entry;
  }

  private view(bot: Bot): BotView {
    const hidden = bot.endpoint === bot.token;
    const state = this.states.get(bot.id);
    return {
      id: bot.id,
      username: bot.username,
      source: bot.source,
      endpoint: hidden ? null : `/${bot.endpoint}`,
      webhook_url: hidden || !this.registrar.managing ? null : this.registrar.webhookUrl(bot),
      allowed_updates: bot.allowedUpdates,
      redis_queue: bot.redisQueue,
      mqtt_topic: bot.mqttTopic,
      kafka_topic: bot.kafkaTopic,
      routes: plainRoutes(bot.routes),
      webhook: {
        registered: state?.registered,
        pending_update_count: state?.pendingUpdateCount,
        last_error_message: state?.lastErrorMessage,
      },
    };
  }
}

/** The entry without the keys set to null or left out: null in a PATCH clears a key. */
function defined(entry: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(entry).filter(([, value]) => value !== undefined && value !== null),
  );
}
