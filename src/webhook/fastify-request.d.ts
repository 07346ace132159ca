import type { Bot } from '../telegram/bot-registry.service.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The bot a webhook request belongs to, set by SecretTokenGuard. */
    telegramBot?: Bot;
  }
}
