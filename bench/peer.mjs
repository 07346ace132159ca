// @ts-check
// What the hand-written subjects of the bench (the floor, grammY, Telegraf) share: their settings
// from the environment the bench gives them, and a SIGTERM that closes the server, then Redis.

/** A setting the bench always passes; missing, the subject cannot run. */
export function env(/** @type {string} */ name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/**
 * On SIGTERM: `closeServer`, then Redis, then exit 0 — so the bench's queue check sees every write
 * the server acknowledged.
 * @param {() => Promise<unknown>} closeServer
 * @param {{ quit(): Promise<unknown> }} redis
 */
export function stopOnSigterm(closeServer, redis) {
  process.on(
    'SIGTERM',
    () =>
      void closeServer()
        .then(() => redis.quit())
        .then(() => process.exit(0)),
  );
}
