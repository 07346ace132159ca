import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig, readEnvironment, SETTING_NAMES } from './load-settings.js';

const root = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));

/** Setting names are a public contract: every one is documented, in the README and in .env.example. */
describe('settings documentation', () => {
  it.each(['README.md', '.env.example'])('%s names every setting', (file) => {
    const text = readFileSync(root(file), 'utf8');
    const missing = SETTING_NAMES.filter((name) => name !== 'ENV_FILE' || file === 'README.md').filter(
      (name) => !text.includes(name),
    );
    expect(missing).toEqual([]);
  });

  it('.env.example is a valid configuration as it stands', () => {
    const sut = loadConfig(readEnvironment({ ENV_FILE: root('.env.example') }));
    expect(sut.bots).toHaveLength(1);
    expect(sut.settings.REDIS_URL).toBe('redis://127.0.0.1:6379');
  });
});
