import { setFlagsFromString } from 'node:v8';

/**
 * Imported first by main.ts, before anything allocates much.
 *
 * V8 "pretenures" objects made at a code site whose objects tended to survive: it allocates them
 * straight in the old generation. Starting many bots (a thousand getMe/setWebhook calls) makes
 * sites that the request path shares with start-up look long-lived; afterwards every request's
 * short-lived objects at those sites went to the old generation, which then filled and was
 * collected every second: with 1,000 bots an update cost ~30 µs of CPU instead of ~20
 * (`npm run bench`). Nothing this service keeps is allocated per request, so it loses nothing by
 * leaving every object to the young generation.
 */
setFlagsFromString('--no-allocation-site-pretenuring');

/**
 * Under steady load a small share of each young collection's survivors (~40 KB of request bodies,
 * batch buffers and their wrappers, dead soon after) is promoted to the old generation. V8 lets
 * the old generation grow to up to several times its live size before the next full collection,
 * so this garbage, and the request-body memory outside the heap it holds on to, grew for the
 * whole of a run: ~70 MB above the idle RSS. Letting the old generation grow by 10% of its live
 * size between full collections bounds it to a few MB. What it costs is a full collection every
 * few seconds under load, mostly marked concurrently, on a heap of ~30 MB; `npm run bench`
 * measured no change in throughput or p99 and ~70 MB less peak RSS.
 */
setFlagsFromString('--heap-growing-percent=10');
