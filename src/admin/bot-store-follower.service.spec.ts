import { jest } from '@jest/globals';
import { BotRegistry } from '../bots/bot-registry.service.js';
import type { BotStore, StoreSnapshot } from '../bots/store/bot-store.service.js';
import type { StoredBot } from '../bots/store/stored-bot.js';
import { loadConfig } from '../config/load-settings.js';
import { BotStoreFollower } from './bot-store-follower.service.js';
import type { BotSetChange, RuntimeBots } from './runtime-bots.service.js';

const config = loadConfig({
  ENV_FILE: '/nonexistent/.env',
  BOTS_STORE: 'redis',
  BOTS_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
  REDIS_URL: 'redis://127.0.0.1:6379',
  WEBHOOK_DOMAIN: 'bot.example.com',
});

const stored = (n: number, endpoint = `b${n}`): StoredBot => ({
  id: n,
  username: `bot${n}`,
  entry: {},
  secretGiven: true,
  config: { index: 0, source: 'admin API', token: `${n}:AAH_token${n}`, endpoint, secret: `secret${n}` },
});

/** The store as the follower sees it: versioned records, read one at a time or all at once. */
class FakeStore {
  enabled = true;
  applied = 0;
  current = 0;
  readonly records = new Map<number, StoredBot>();
  readonly snapshots = jest.fn((): Promise<StoreSnapshot> =>
    Promise.resolve({ version: this.current, bots: [...this.records.values()] }),
  );
  readonly reads = jest.fn((id: number) =>
    Promise.resolve({ version: this.current, bot: this.records.get(id) }),
  );

  version(): Promise<number> {
    return Promise.resolve(this.current);
  }
  snapshot(): Promise<StoreSnapshot> {
    return this.snapshots();
  }
  read(id: number): Promise<{ version: number; bot?: StoredBot }> {
    return this.reads(id);
  }
  write(bot: StoredBot | number): number {
    if (typeof bot === 'number') this.records.delete(bot);
    else this.records.set(bot.id, bot);
    return ++this.current;
  }
}

describe('BotStoreFollower', () => {
  let registry: BotRegistry;
  let store: FakeStore;
  let changes: BotSetChange[];
  let sut: BotStoreFollower;

  beforeEach(() => {
    registry = new BotRegistry();
    store = new FakeStore();
    changes = [];
    const runtime = {
      serialised: <T>(work: () => Promise<T>) => work(),
      apply: (change: BotSetChange) => {
        changes.push(change);
        registry.apply({
          add: [...(change.added ?? []), ...(change.changed ?? []).map((c) => c.after)],
          remove: [...(change.removed ?? []), ...(change.changed ?? []).map((c) => c.before)],
        });
        return Promise.resolve();
      },
    };
    sut = new BotStoreFollower(
      config,
      store as unknown as BotStore,
      registry,
      runtime as unknown as RuntimeBots,
    );
  });

  it('applies the next version by reading that one bot, and only swaps the routing table', async () => {
    const version = store.write(stored(1));
    await sut.catchUp({ version, id: 1 });
    expect(store.reads).toHaveBeenCalledWith(1);
    expect(store.snapshots).not.toHaveBeenCalled();
    expect(registry.findByPath('/b1')?.id).toBe(1);
    expect(changes).toEqual([expect.objectContaining({ webhooks: false, name: 'store-1' })]);
    expect(store.applied).toBe(1);

    // A version already applied (this replica's own write, announced after) changes nothing.
    await sut.catchUp({ version, id: 1 });
    expect(changes).toHaveLength(1);
  });

  it('reads the whole store on a gap in versions, and applies the difference in one change', async () => {
    await sut.catchUp({ version: store.write(stored(1)), id: 1 });
    store.write(stored(2));
    store.write(1);
    const version = store.write(stored(3));
    await sut.catchUp({ version, id: 3 });
    expect(store.snapshots).toHaveBeenCalledTimes(1);
    expect(
      registry
        .all()
        .map((bot) => bot.id)
        .sort(),
    ).toEqual([2, 3]);
    expect(registry.findByPath('/b1')).toBeUndefined();
    expect(store.applied).toBe(version);
  });

  it('reads the whole store when the bot it read is already at a later version', async () => {
    const first = store.write(stored(1));
    store.write(stored(1, 'moved'));
    await sut.catchUp({ version: first, id: 1 });
    expect(store.snapshots).toHaveBeenCalledTimes(1);
    expect(registry.findByPath('/moved')?.id).toBe(1);
    expect(store.applied).toBe(2);
  });

  it('reads the whole store for a change of several bots (bot 0: BOTS_FILE seeded at start)', async () => {
    store.write(stored(1));
    const version = store.write(stored(2));
    store.applied = version - 1;
    await sut.catchUp({ version, id: 0 });
    expect(store.reads).not.toHaveBeenCalled();
    expect(store.snapshots).toHaveBeenCalledTimes(1);
    expect(registry.size).toBe(2);
  });

  it('without a version, resyncs only when the store moved on', async () => {
    await sut.catchUp();
    expect(store.snapshots).not.toHaveBeenCalled();
    store.write(stored(1));
    await sut.catchUp();
    expect(store.snapshots).toHaveBeenCalledTimes(1);
    expect(registry.size).toBe(1);
  });
});
