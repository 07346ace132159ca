import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** End-to-end tests: the real app on Fastify against real brokers and a fake Bot API. */
export default {
  rootDir: '..',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': require('../jest.swc.cjs') },
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // See test/support/cookie.cjs.
    '^cookie$': '<rootDir>/test/support/cookie.cjs',
  },
  testTimeout: 60_000,
  maxWorkers: 2,
};
