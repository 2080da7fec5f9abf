import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFakeClock } from '../../../src/core/clock.js';
import { createSqliteStore } from '../../../src/stores/sqlite/index.js';

afterEach(() => {
  vi.useRealTimers();
});

async function seeded(expired: number, live: number) {
  const db = new Database(':memory:');
  const store = createSqliteStore({ database: db });
  await store.migrate();
  for (let i = 0; i < expired; i++) {
    await store.put(
      {
        collection: 'tokens',
        key: `e${i}`,
        data: {},
        expiresAt: 1000 + i,
        index: { owner: `o${i % 3}` },
      },
      { mode: 'insert', now: 0 },
    );
  }
  for (let i = 0; i < live; i++) {
    await store.put(
      { collection: 'tokens', key: `l${i}`, data: {}, expiresAt: null, index: { owner: 'o0' } },
      { mode: 'insert', now: 0 },
    );
  }
  const count = (table: 'records' | 'index') =>
    db.prepare(`SELECT count(*) FROM tessera_${table}`).pluck().get() as number;
  return { db, store, count };
}

describe('sweep', () => {
  it('deletes only rows expired at or before now - graceMs, with their index rows', async () => {
    const { db, store, count } = await seeded(10, 2);
    expect(await store.sweep(1004, { graceMs: 5 })).toBe(0);
    expect(await store.sweep(1004)).toBe(5);
    expect(count('records')).toBe(7);
    expect(count('index')).toBe(7);
    expect(await store.get({ collection: 'tokens', key: 'e4' })).toBeNull();
    expect(await store.get({ collection: 'tokens', key: 'e5' })).not.toBeNull();
    const owners = await store.findByIndex('tokens', 'owner', 'o0');
    expect(owners.records.map((r) => r.key)).toEqual(['e6', 'e9', 'l0', 'l1']);
    db.close();
  });

  it('deletes at most `limit` rows per call, so a backlog drains in bounded batches', async () => {
    const { db, store, count } = await seeded(450, 3);
    const batches: number[] = [];
    for (;;) {
      const n = await store.sweep(10_000, { limit: 100 });
      batches.push(n);
      if (n === 0) break;
    }
    expect(batches).toEqual([100, 100, 100, 100, 50, 0]);
    expect(count('records')).toBe(3);
    expect(count('index')).toBe(3);
    db.close();
  });

  it('deletes more than one internal transaction holds when the limit allows it', async () => {
    const { db, store, count } = await seeded(450, 0);
    expect(await store.sweep(10_000)).toBe(450);
    expect(count('records')).toBe(0);
    db.close();
  });
});

describe('startSweeper', () => {
  it('sweeps on every interval, repeating full batches, until stopped', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const clock = createFakeClock(0);
    const { db, store, count } = await seeded(25, 1);
    const stop = store.startSweeper({ intervalMs: 1000, clock, limit: 10 });

    await vi.advanceTimersByTimeAsync(1000);
    expect(count('records')).toBe(26); // nothing has expired yet at t = 0
    clock.set(1010);
    await vi.advanceTimersByTimeAsync(1000);
    expect(count('records')).toBe(15); // e0..e10 expired at or before 1010
    clock.set(5000);
    stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(count('records')).toBe(15);
    db.close();
  });

  it('drains a backlog larger than one call in a single run', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const clock = createFakeClock(10_000);
    const { db, store, count } = await seeded(25, 1);
    store.startSweeper({ intervalMs: 1000, clock, limit: 10 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(count('records')).toBe(1);
    expect(count('index')).toBe(1);
    await store.close();
    db.close();
  });

  it('stops when the store is closed and reports run errors to onError', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const clock = createFakeClock(10_000);
    const { db, store } = await seeded(1, 0);
    const errors: unknown[] = [];
    const sweepSpy = vi.spyOn(store, 'sweep');
    store.startSweeper({ intervalMs: 1000, clock, onError: (e) => errors.push(e) });
    db.exec('DROP TABLE tessera_records');
    await vi.advanceTimersByTimeAsync(1000);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'ERR_TESSERA_STORE' });
    await store.close();
    const calls = sweepSpy.mock.calls.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sweepSpy.mock.calls.length).toBe(calls);
    db.close();
  });

  it('rejects a non-positive interval with RangeError', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    expect(() => store.startSweeper({ intervalMs: 0 })).toThrow(RangeError);
    await store.close();
  });
});
