// @ts-check
// Runs TypeScript sources directly: `node --import ./scripts/ts/register.js scripts/demo.ts`.
// Compiles with @swc/core (already a dev dependency for Jest), with the same options as jest.swc.cjs,
// so the demo and dev tools run on a fresh clone without a build step.
import { register } from 'node:module';

register('./hooks.js', import.meta.url);
