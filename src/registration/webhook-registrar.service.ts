import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { Bot } from '../bots/bot.js';
import { BotRegistry } from '../bots/bot-registry.service.js';
import { StartupError } from '../bots/startup.error.js';
import { errorMessage } from '../common/error-message.js';
import { forEachLimited } from '../common/for-each-limited.js';
import { RECEIVER_CONFIG } from '../config/config.constants.js';
import type { BotConfig } from '../config/bots.js';
import type { ReceiverConfig } from '../config/load-settings.js';
import { BOT_API_CONCURRENCY, TelegramClient } from '../telegram/telegram.client.js';
import type { SetWebhookParams, WebhookInfo } from '../telegram/telegram.types.js';
import { loadWebhookTls } from '../tls/webhook-tls.js';
import { NGROK_DOMAIN, resolveWebhookDomain } from './ngrok.js';
import { WebhookStates } from './webhook-states.js';

/**
 * Registers every bot's webhook at start-up (once its bot was identified) — idempotently, so many
 * replicas starting together call setWebhook once. Also what the reconciler and the CLI register with.
 */
@Injectable()
export class WebhookRegistrar implements OnModuleInit {
  private readonly logger = new Logger(WebhookRegistrar.name);
  /** WEBHOOK_DOMAIN, or the ngrok tunnel's host when WEBHOOK_DOMAIN=ngrok; set by prepare(). */
  private domain?: string;
  /** The self-signed WEBHOOK_CERT, uploaded with every setWebhook; set by prepare(). */
  private certificatePem?: string;

  constructor(
    @Inject(RECEIVER_CONFIG) private readonly config: ReceiverConfig,
    private readonly telegram: TelegramClient,
    private readonly registry: BotRegistry,
    private readonly states: WebhookStates,
  ) {}

  /** Whether this service manages webhooks at all (not in polling mode, not with TELEGRAM_SET_WEBHOOK=false). */
  get managing(): boolean {
    return this.config.settings.TELEGRAM_SET_WEBHOOK && this.config.settings.TELEGRAM_MODE === 'webhook';
  }

  async onModuleInit(): Promise<void> {
    // In polling mode the webhook is the poller's business (POLLING_DELETE_WEBHOOK), not ours.
    if (!this.managing) return;
    await this.prepare();
    await forEachLimited(this.registry.all(), BOT_API_CONCURRENCY, (bot) => this.ensureRegistered(bot));
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
        this.states.record(bot, info, this.webhookUrl(bot));
        if (this.matches(bot, info)) {
          this.logger.log(`Webhook of ${bot.label} is already registered as configured`);
          return;
        }
      } catch (error) {
        this.logger.warn(`getWebhookInfo failed for ${bot.label} (${errorMessage(error)}); setting it`);
      }
    }
    await this.register(bot);
  }

  /** Whether Telegram's webhook of this bot is the one this configuration would set. */
  matches(bot: Bot, info: WebhookInfo): boolean {
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
      throw new StartupError(`setWebhook failed for ${bot.label}: ${errorMessage(error)}`);
    }
    this.states.registered(bot);
    this.logger.log(
      `Webhook registered for ${bot.label} at https://${this.domain ?? settings.WEBHOOK_DOMAIN}/…` +
        (this.certificatePem ? ' with its self-signed certificate' : ''),
    );
  }
}
