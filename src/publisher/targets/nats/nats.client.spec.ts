import { subjectCovers } from './nats.client.js';

describe('subjectCovers (NATS subject filters)', () => {
  it.each([
    ['telegram.*.*', 'telegram.*.*', true],
    ['telegram.>', 'telegram.*.*', true],
    ['>', 'telegram.*.*', true],
    ['*.*.*', 'telegram.*.*', true],
    ['telegram.*', 'telegram.*.*', false],
    ['telegram.42.*', 'telegram.*.*', false],
    ['other.>', 'telegram.*.*', false],
    ['telegram.*.*.*', 'telegram.*.*', false],
    ['telegram.>', 'telegram', false],
  ])('%s covers %s: %s', (filter, subjects, expected) => {
    expect(subjectCovers(filter, subjects)).toBe(expected);
  });
});
