// @ts-check
// One freePort for the tests (test/support/brokers.ts), the demo (scripts/demo.ts) and the bench
// (bench/run.mjs): plain ESM, so that the bench can load it after a build without compiling it;
// type-checked through its JSDoc (tsconfig.json allowJs).
import { createServer } from 'node:net';

/**
 * A port that was free on 127.0.0.1 a moment ago (the OS picks it). Another process may take it
 * before the caller listens on it: retry on EADDRINUSE where that matters.
 *
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}
