// @ts-check
// One polling wait for the tests (test/support/wait.ts re-exports it), the demo and the fake Bot
// API: plain ESM like free-port.js (the bench can load it without a build).

/**
 * Polls `predicate` every `intervalMs` until it holds; throws `<what> within <timeoutMs> ms` after
 * `timeoutMs`. An error the predicate throws ends the wait with that error.
 *
 * @param {() => boolean | Promise<boolean>} predicate
 * @param {number} [timeoutMs]
 * @param {number} [intervalMs]
 * @param {string} [what] what the timeout's error says did not happen
 * @returns {Promise<void>}
 */
export async function waitUntil(predicate, timeoutMs = 10_000, intervalMs = 50, what = 'condition not met') {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
