import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service.js';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { BotConfig } from '../config/bots.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { loadWebhookTls } from '../tls/webhook-tls.js';
import { BotRegistry, type Bot } from './bot-registry.service.js';
import { NGROK_DOMAIN, resolveWebhookDomain } from './ngrok.js';
import { TelegramApiError } from './telegram-api.error.js';
import { TelegramClient } from './telegram.client.js';
import type { SetWebhookParams, WebhookInfo } from './telegram.types.js';
import { WebhookLease } from './webhook-lease.service.js';

/** Thrown when start-up cannot go on: the message names the bot by position, never by token. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/** How many bots are registered at once at start-up: enough for hundreds of bots, gentle on the Bot API. */
const REGISTRATION_CONCURRENCY = 8;

/** What the service knows of one bot's webhook, from its own calls and the reconciler's reads. */
export interface WebhookState {
  registered: boolean;
  pendingUpdateCount?: number;
  lastErrorDate?: number;
  lastErrorMessage?: string;
  checkedAt?: number;
}

/**
 * Identifies every bot (getMe) and registers its webhook at start-up — idempotently, so many
 * replicas starting together call setWebhook once; keeps it registered (the reconciler, every
 * WEBHOOK_RECONCILE_SECONDS); and removes it at shutdown only when TELEGRAM_DELETE_WEBHOOK is on
 * and no other replica still serves the bots (the Redis lease), never dropping pending updates.
 */
@Injectable()
export class WebhookRegistrar implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WebhookRegistrar.name);
  /** WEBHOOK_DOMAIN, or the ngrok tunnel's host when WEBHOOK_DOMAIN=ngrok; set by prepare(). */
  private domain?: string;
  /** The self-signed WEBHOOK_CERT, uploaded with every setWebhook; set by prepare(). */
  private certificatePem?: string;
  /** Per bot id. */
  readonly states = new Map<number, WebhookState>();
  private reconcileTimer?: NodeJS.Timeout;
  private reconciling?: Promise<void>;

  constructor(
    @Inject(RECEIVER_CONFIG) private readonly config: ReceiverConfig,
    private readonly telegram: TelegramClient,
    private readonly registry: BotRegistry,
    private readonly lease: WebhookLease,
    private readonly metrics: MetricsService,
  ) {}

  private get registering(): boolean {
    return this.config.settings.TELEGRAM_SET_WEBHOOK && this.config.settings.TELEGRAM_MODE === 'webhook';
  }

  async onModuleInit(): Promise<void> {
    // In polling mode the webhook is the poller's business (POLLING_DELETE_WEBHOOK), not ours.
    const registering = this.registering;
    if (registering) await this.prepare();
    await forEachLimited(this.config.bots, REGISTRATION_CONCURRENCY, async (config) => {
      const bot = await this.identify(config);
      if (registering) await this.ensureRegistered(bot);
    });
  }

  onApplicationBootstrap(): void {
    const seconds = this.config.settings.WEBHOOK_RECONCILE_SECONDS;
    if (!this.registering || seconds === 0) return;
    this.reconcileTimer = setInterval(() => {
      this.reconciling ??= this.reconcile().finally(() => (this.reconciling = undefined));
    }, seconds * 1000);
    this.reconcileTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.reconcileTimer);
    await this.reconciling;
    if (this.config.settings.TELEGRAM_MODE === 'polling') return;
    let last: boolean;
    try {
      last = await this.lease.release();
    } catch (error) {
      // Unsure whether other replicas run: keeping the webhook is the safe side.
      this.logger.warn(`Replica lease unreadable (${(error as Error).message}): webhook kept`);
      return;
    }
    if (!this.config.settings.TELEGRAM_DELETE_WEBHOOK) return;
    if (!last) {
      this.logger.log('Other replicas still serve these bots: webhook kept');
      return;
    }
    await forEachLimited(this.registry.all(), REGISTRATION_CONCURRENCY, async (bot) => {
      try {
        // One attempt with a short timeout: shutdown must not wait on the Bot API's retries.
        await this.telegram.call(bot.token, 'deleteWebhook', { drop_pending_updates: false }, 5000);
        this.logger.log(`Webhook deleted for ${bot.label}; pending updates are kept by Telegram`);
      } catch (error) {
        this.logger.error(`deleteWebhook failed for ${bot.label}: ${(error as Error).message}`);
      }
    });
  }

  /** Resolves, once, what registering needs: the public domain (ngrok) and the certificate to upload. */
  async prepare(): Promise<void> {
    const { settings } = this.config;
    this.domain = await resolveWebhookDomain(settings);
    // Behind ngrok, Telegram sees ngrok's certificate, never ours.
    const tls = settings.WEBHOOK_DOMAIN === NGROK_DOMAIN ? undefined : loadWebhookTls(settings);
    if (tls?.selfSigned) this.certificatePem = tls.certificate.toString();
  }

  webhookUrl(bot: BotConfig): string {
    return `https://${this.domain ?? this.config.settings.WEBHOOK_DOMAIN}/${bot.endpoint}`;
  }

  /** getMe: who the bot is. Throws StartupError naming the bot by its position, never its token. */
  async identify(config: BotConfig): Promise<Bot> {
    try {
      const me = await this.telegram.getMe(config.token);
      return this.registry.add(config, me.id, me.username);
    } catch (error) {
      if (error instanceof TelegramApiError && error.errorCode === 401) {
        throw new StartupError(
          `The Bot API rejected the token of the bot from ${config.source} (401 Unauthorized): check the token`,
        );
      }
      throw new StartupError(`getMe failed for the bot from ${config.source}: ${(error as Error).message}`);
    }
  }

  /**
   * Registers the webhook unless Telegram already has it as configured (getWebhookInfo first), so
   * replicas starting together do not each call setWebhook. The secret cannot be read back:
   * WEBHOOK_FORCE_SET=true sets it regardless (needed after changing WEBHOOK_SECRET).
   */
  async ensureRegistered(bot: Bot): Promise<void> {
    const { settings } = this.config;
    if (!settings.WEBHOOK_FORCE_SET && !settings.WEBHOOK_DROP_PENDING_UPDATES) {
      try {
        const info = await this.telegram.getWebhookInfo(bot.token);
        this.record(bot, info);
        if (this.matches(bot, info)) {
          this.logger.log(`Webhook of ${bot.label} is already registered as configured`);
          return;
        }
      } catch (error) {
        this.logger.warn(`getWebhookInfo failed for ${bot.label} (${(error as Error).message}); setting it`);
      }
    }
    await this.register(bot);
  }

  /** Re-reads every bot's webhook; re-sets one that drifted (removed or changed behind our back). */
  async reconcile(): Promise<void> {
    await forEachLimited(this.registry.all(), REGISTRATION_CONCURRENCY, async (bot) => {
      try {
        const info = await this.telegram.call<WebhookInfo>(bot.token, 'getWebhookInfo', {});
        this.record(bot, info);
        if (this.matches(bot, info)) return;
        this.logger.warn(
          `Webhook of ${bot.label} drifted (now ${info.url ? 'another URL' : 'unset'}): setting it again`,
        );
        await this.register(bot);
      } catch (error) {
        this.logger.warn(`Reconciling the webhook of ${bot.label} failed: ${(error as Error).message}`);
      }
    });
  }

  private matches(bot: Bot, info: WebhookInfo): boolean {
    const { settings } = this.config;
    if (info.url !== this.webhookUrl(bot)) return false;
    if ((info.max_connections ?? 40) !== settings.WEBHOOK_MAX_CONNECTIONS) return false;
    if (settings.WEBHOOK_IP_ADDRESS && info.ip_address !== settings.WEBHOOK_IP_ADDRESS) return false;
    if (Boolean(this.certificatePem) !== info.has_custom_certificate) return false;
    if (bot.allowedUpdates) {
      const have = [...(info.allowed_updates ?? [])].sort().join(',');
      if (have !== [...bot.allowedUpdates].sort().join(',')) return false;
    }
    return true;
  }

  private record(bot: Bot, info: WebhookInfo): void {
    const registered = info.url === this.webhookUrl(bot);
    this.states.set(bot.id, {
      registered,
      pendingUpdateCount: info.pending_update_count,
      lastErrorDate: info.last_error_date,
      lastErrorMessage: info.last_error_message,
      checkedAt: Date.now(),
    });
    this.metrics.webhookRegistered.labels(bot.idText).set(registered ? 1 : 0);
    this.metrics.webhookPending.labels(bot.idText).set(info.pending_update_count);
    this.metrics.webhookLastError.labels(bot.idText).set(info.last_error_date ?? 0);
  }

  /** setWebhook for one bot with this configuration (after prepare()). */
  async register(bot: Bot): Promise<void> {
    const { settings } = this.config;
    const params: SetWebhookParams = {
      url: this.webhookUrl(bot),
      secret_token: bot.secret,
      max_connections: settings.WEBHOOK_MAX_CONNECTIONS,
    };
    if (bot.allowedUpdates) params.allowed_updates = bot.allowedUpdates;
    if (settings.WEBHOOK_DROP_PENDING_UPDATES) params.drop_pending_updates = true;
    if (settings.WEBHOOK_IP_ADDRESS) params.ip_address = settings.WEBHOOK_IP_ADDRESS;
    try {
      if (this.certificatePem) {
        await this.telegram.setWebhookWithCertificate(bot.token, params, this.certificatePem);
      } else {
        await this.telegram.setWebhook(bot.token, params);
      }
    } catch (error) {
      throw new StartupError(`setWebhook failed for ${bot.label}: ${(error as Error).message}`);
    }
    this.states.set(bot.id, { ...this.states.get(bot.id), registered: true });
    this.metrics.webhookRegistered.labels(bot.idText).set(1);
    this.logger.log(
      `Webhook registered for ${bot.label} at https://${this.domain ?? settings.WEBHOOK_DOMAIN}/…` +
        (this.certificatePem ? ' with its self-signed certificate' : ''),
    );
  }
}

async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
