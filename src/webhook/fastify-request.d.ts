import type { Bot } from '../bots/bot.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The bot a webhook request belongs to, set by SecretTokenGuard. */
    telegramBot?: Bot;
  }
}
