/**
 * The admin API's OpenAPI 3.1 description, written by hand and checked against the controllers
 * by `openapi.spec.ts` (every route is described, nothing else is).
 */
const error = { $ref: '#/components/responses/Error' };
const id = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'integer' },
  description: "The bot's getMe id",
};

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'telegram-receiver admin API',
    version: '1',
    description:
      'Bots added, changed and removed while running (kept in Redis and shared by every replica with BOTS_STORE=redis; 503 while it cannot be reached). On ADMIN_PORT only; every request but this document carries `Authorization: Bearer <ADMIN_TOKEN>`. No response holds a token or a secret.',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    responses: {
      Error: {
        description: 'An error',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['statusCode', 'error', 'message'],
              properties: {
                statusCode: { type: 'integer' },
                error: { type: 'string' },
                message: { type: 'string' },
              },
            },
          },
        },
      },
    },
    schemas: {
      Routes: {
        type: 'object',
        description: 'Target name → update kinds (a list), `all` or `none`',
        additionalProperties: { oneOf: [{ type: 'array', items: { type: 'string' } }, { type: 'string' }] },
      },
      BotChange: {
        type: 'object',
        additionalProperties: false,
        description: 'What BOTS_FILE says of a bot, by the same rules; `null` clears a key in a PATCH',
        properties: {
          endpoint: {
            type: ['string', 'null'],
            description: 'hash | random | a URL path (default WEBHOOK_ENDPOINT)',
          },
          secret: { type: ['string', 'null'], description: '1–256 characters of A-Z a-z 0-9 _ -' },
          allowed_updates: { type: ['array', 'null'], items: { type: 'string' } },
          redis_queue: { type: ['string', 'null'] },
          mqtt_topic: { type: ['string', 'null'] },
          kafka_topic: { type: ['string', 'null'] },
          routes: { oneOf: [{ $ref: '#/components/schemas/Routes' }, { type: 'null' }] },
        },
      },
      NewBot: {
        allOf: [
          { $ref: '#/components/schemas/BotChange' },
          { type: 'object', required: ['token'], properties: { token: { type: 'string' } } },
        ],
      },
      Bot: {
        type: 'object',
        required: ['id', 'source', 'endpoint', 'webhook_url', 'webhook'],
        properties: {
          id: { type: 'integer' },
          username: { type: 'string' },
          source: { type: 'string', description: 'admin API, BOTS_FILE entry N or TELEGRAM_TOKEN' },
          endpoint: { type: ['string', 'null'], description: 'The webhook path; null when it is the token' },
          webhook_url: { type: ['string', 'null'] },
          allowed_updates: { type: 'array', items: { type: 'string' } },
          redis_queue: { type: 'string' },
          mqtt_topic: { type: 'string' },
          kafka_topic: { type: 'string' },
          routes: { $ref: '#/components/schemas/Routes' },
          webhook: {
            type: 'object',
            properties: {
              registered: { type: 'boolean' },
              pending_update_count: { type: 'integer' },
              last_error_message: { type: 'string' },
            },
          },
        },
      },
    },
  },
  security: [{ bearer: [] }],
  paths: {
    '/bots': {
      post: {
        summary: 'Add a bot: getMe, route, register its webhook',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/NewBot' } } },
        },
        responses: {
          '201': {
            description: 'Served',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Bot' } } },
          },
          '400': error,
          '401': error,
          '409': error,
          '422': error,
          '502': error,
          '503': error,
        },
      },
      get: {
        summary: 'List the bots served, by id',
        parameters: [
          { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
          {
            name: 'limit',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        ],
        responses: {
          '200': {
            description: 'A page of bots',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    bots: { type: 'array', items: { $ref: '#/components/schemas/Bot' } },
                    total: { type: 'integer' },
                    offset: { type: 'integer' },
                    limit: { type: 'integer' },
                  },
                },
              },
            },
          },
          '400': error,
          '401': error,
        },
      },
    },
    '/bots/{id}': {
      get: {
        summary: 'One bot',
        parameters: [id],
        responses: {
          '200': {
            description: 'The bot',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Bot' } } },
          },
          '401': error,
          '404': error,
        },
      },
      patch: {
        summary:
          'Change a bot added by the API; its webhook is set again when its URL, secret or kinds change',
        parameters: [id],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/BotChange' } } },
        },
        responses: {
          '200': {
            description: 'Changed',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Bot' } } },
          },
          '400': error,
          '401': error,
          '404': error,
          '409': error,
          '503': error,
        },
      },
      delete: {
        summary: 'Stop serving a bot added by the API (404 for its path at once) and delete its webhook once',
        parameters: [
          id,
          {
            name: 'drop_pending',
            in: 'query',
            schema: { type: 'string', enum: ['true', 'false'], default: 'false' },
          },
        ],
        responses: {
          '204': { description: 'Removed' },
          '401': error,
          '404': error,
          '409': error,
          '503': error,
        },
      },
    },
    '/openapi.json': {
      get: { summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI 3.1' } } },
    },
  },
} as const;
