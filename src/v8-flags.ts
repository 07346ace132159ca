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
