import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Unit tests: `*.spec.ts` beside the code. */
export default {
  rootDir: 'src',
  testEnvironment: 'node',
  testMatch: ['**/*.spec.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': require('./jest.swc.cjs') },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};
