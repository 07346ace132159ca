import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { ModuleMetadata, Type } from '@nestjs/common';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModule } from '../../src/app.module.js';
import { loadConfig, type ReceiverConfig } from '../../src/config/load-settings.js';
import type { UpdatePublisher } from '../../src/publisher/publisher.interface.js';
import { loadWebhookTls } from '../../src/tls/webhook-tls.js';

/** Writes a BOTS_FILE (YAML, or JSON with a `.json` name) into a new temporary directory; returns its path. */
export function writeBotsFile(content: string, name = 'bots.yaml'): string {
  const file = join(mkdtempSync(join(tmpdir(), 'bots-file-')), name);
  writeFileSync(file, content);
  return file;
}

/**
 * The settings of most tests: one bot at `/hook` with this secret, talking to the fake Bot API,
 * with webhook registration off (the tests post to the receiver themselves).
 */
export function hookEnv(apiUrl: string, token: string, secret: string): Record<string, string> {
  return {
    TELEGRAM_TOKEN: token,
    TELEGRAM_API_URL: apiUrl,
    TELEGRAM_SET_WEBHOOK: 'false',
    TELEGRAM_DELETE_WEBHOOK: 'false',
    WEBHOOK_ENDPOINT: 'hook',
    WEBHOOK_SECRET: secret,
  };
}

export interface TestApp {
  app: NestFastifyApplication;
  config: ReceiverConfig;
  /** Base URL when started with `listen: true`. */
  url: string;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Listen on a free loopback port (for real HTTP clients); otherwise use `app.inject`. */
  listen?: boolean;
  publishers?: Type<UpdatePublisher>[];
  imports?: ModuleMetadata['imports'];
  /** Serve HTTPS with WEBHOOK_CERT / WEBHOOK_KEY, as `main.ts` does; `url` is then `https://…`. */
  tls?: boolean;
}

/**
 * Boots the real application on Fastify with these settings (never the process environment),
 * the way STYLE.md describes: createNestApplication(new FastifyAdapter()), init, ready.
 */
export async function startApp(env: Record<string, string>, options: StartOptions = {}): Promise<TestApp> {
  const config = loadConfig({ ENV_FILE: '/nonexistent/.env', ...env });
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.forRoot({ config, publishers: options.publishers, imports: options.imports })],
  })
    .setLogger(quietLogger)
    .compile();
  const tls = options.tls ? loadWebhookTls(config.settings) : undefined;
  const app = moduleRef.createNestApplication<NestFastifyApplication>(
    new FastifyAdapter(tls && { https: { cert: tls.cert, key: tls.key } }),
  );
  try {
    await app.init();
  } catch (error) {
    // main.ts exits the process when start-up fails; a test goes on, so release what the
    // modules that did start opened (Redis connections, timers), or Jest's worker never exits.
    await app.close().catch(() => undefined);
    throw error;
  }
  await app.getHttpAdapter().getInstance().ready();
  let url = '';
  if (options.listen) {
    await app.listen(0, '127.0.0.1');
    const address = app.getHttpServer().address() as { port: number };
    url = `${tls ? 'https' : 'http'}://127.0.0.1:${address.port}`;
  }
  let closed = false;
  return {
    app,
    config,
    url,
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}

/** Tests keep Nest's logs out of the output unless TEST_LOGS=1. */
const quietLogger = {
  log: () => undefined,
  error: (...args: unknown[]) => (process.env.TEST_LOGS ? console.error(...args) : undefined),
  warn: (...args: unknown[]) => (process.env.TEST_LOGS ? console.warn(...args) : undefined),
  debug: () => undefined,
  verbose: () => undefined,
  fatal: (...args: unknown[]) => console.error(...args),
};
