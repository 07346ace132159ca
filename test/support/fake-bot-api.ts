/**
 * The fake Bot API lives in scripts/ so that the offline demo (`npm run demo`) can run it too;
 * tests keep importing it from here.
 */
export * from '../../scripts/fake-bot-api.js';
