import { slotPrefix } from '../config/redis-settings.js';
import { keySlot } from './key-slot.js';

describe('keySlot', () => {
  // Answers of CLUSTER KEYSLOT on Redis 7.0.
  it.each([
    ['foo', 12182],
    ['bar', 5061],
    ['hello', 866],
    ['telegram_bot', 12448],
    ['{telegram_bot}:dedup:1:b0', 12448],
    ['a{b', 13340],
    ['{shop}:q', 3808],
  ])('%s is in slot %d', (key, slot) => {
    expect(keySlot(key)).toBe(slot);
  });

  it('hashes only the first non-empty {tag}', () => {
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    expect(keySlot('foo{}{bar}')).toBe(keySlot('foo{}{bar}'));
    expect(keySlot('foo{}{bar}')).not.toBe(keySlot('bar'));
    expect(keySlot('foo{{bar}}zap')).toBe(keySlot('{bar'));
    expect(keySlot('ключ')).toBe(keySlot('{ключ}x'));
  });
});

describe('slotPrefix: dedup keys in their queue’s hash slot', () => {
  it.each(['telegram_bot', 'shop:{eu}:updates', '{shop}:q', 'a{b', 'x{{y}}'])(
    'keys under the prefix of %s share its slot',
    (queue) => {
      const prefix = slotPrefix(queue) as string;
      expect(keySlot(`${prefix}:dedup:42:b7`)).toBe(keySlot(queue));
    },
  );

  it('has none for a name with a } but no tag: any {…} around it would end early', () => {
    expect(slotPrefix('a}b')).toBeUndefined();
    expect(slotPrefix('{}x}')).toBeUndefined();
    expect(slotPrefix('q{}')).toBeUndefined();
  });
});
