/**
 * The per-identity quota in leases: never more than the limit across
 * instances sharing a store, one store write per lease, refusals remembered
 * until the window ends. On the memory store and on one SQLite file opened
 * by two stores (two instances).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFakeClock } from '../../src/core/clock.js';
import {
  createIdentityQuota,
  leaseSizeFor,
  MAX_LEASE_SIZE,
} from '../../src/server/identity-quota.js';
import type { Store } from '../../src/stores/contract.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { createSqliteStore } from '../../src/stores/sqlite/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-quota-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The store, with its update calls counted (the writes a quota costs). */
function counted(store: Store): { store: Store; updates: () => number } {
  let n = 0;
  const wrapped = Object.create(store) as Store;
  (wrapped as { update: Store['update'] }).update = (...args) => {
    n++;
    return store.update(...args);
  };
  return { store: wrapped, updates: () => n };
}

const WINDOW = 60;

describe('leaseSizeFor', () => {
  it('leases 1% of the limit, between 1 and 50 hits', () => {
    expect(leaseSizeFor(3)).toBe(1);
    expect(leaseSizeFor(199)).toBe(1);
    expect(leaseSizeFor(1000)).toBe(10);
    expect(leaseSizeFor(6000)).toBe(MAX_LEASE_SIZE);
    expect(leaseSizeFor(1_000_000)).toBe(MAX_LEASE_SIZE);
  });
});

describe('the identity quota', () => {
  it('allows exactly the limit on one instance, with one store write per lease, and refuses without writing', async () => {
    const clock = createFakeClock();
    const { store, updates } = counted(createMemoryStore());
    const q = createIdentityQuota({
      store,
      collection: 'rl',
      rule: { limit: 1000, windowSeconds: WINDOW },
      clock,
    });
    const remaining: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const o = await q.hit('id:a');
      expect(o.allowed, `hit ${i}`).toBe(true);
      remaining.push(o.remaining);
    }
    expect(remaining[0]).toBe(999);
    expect(remaining.at(-1)).toBe(0);
    expect(remaining.every((r, i) => i === 0 || r < (remaining[i - 1] as number))).toBe(true);
    expect(updates()).toBe(100);
    const refused = await q.hit('id:a');
    expect(refused).toMatchObject({
      allowed: false,
      remaining: 0,
      limit: 1000,
      retryAfterSeconds: WINDOW,
    });
    const before = updates();
    for (let i = 0; i < 50; i++) expect((await q.hit('id:a')).allowed).toBe(false);
    expect(updates()).toBe(before);
    // The first refusal cost one write (no lease fits once fewer than its size were left).
    expect(before).toBe(101);
    // The window in the store holds exactly what was granted.
    expect((await store.get({ collection: 'rl', key: 'id:a' }))?.data.count).toBe(1000);
    // A new window: allowed again.
    clock.advance(WINDOW * 1000);
    expect((await q.hit('id:a')).allowed).toBe(true);
  });

  it('gives the end of a budget hit by hit, so one instance gets the whole limit', async () => {
    const clock = createFakeClock();
    const store = createMemoryStore();
    const q = createIdentityQuota({
      store,
      collection: 'rl',
      rule: { limit: 25, windowSeconds: WINDOW },
      clock,
      leaseSize: 10,
    });
    let allowed = 0;
    for (let i = 0; i < 40; i++) if ((await q.hit('id:b')).allowed) allowed++;
    expect(allowed).toBe(25);
  });

  it('never allows more than the limit to concurrent hits on two instances sharing a SQLite file', async () => {
    const clock = createFakeClock();
    const file = join(dir, 'quota.db');
    const one = counted(createSqliteStore({ path: file }));
    const two = counted(createSqliteStore({ path: file }));
    await one.store.migrate();
    const rule = { limit: 1000, windowSeconds: WINDOW };
    const a = createIdentityQuota({ store: one.store, collection: 'rl', rule, clock });
    const b = createIdentityQuota({ store: two.store, collection: 'rl', rule, clock });
    const results = await Promise.all(
      Array.from({ length: 1400 }, (_, i) => (i % 2 === 0 ? a : b).hit('id:shared')),
    );
    const allowed = results.filter((r) => r.allowed).length;
    // At most the limit; at most one unused lease per instance short of it.
    expect(allowed).toBeLessThanOrEqual(1000);
    expect(allowed).toBeGreaterThanOrEqual(1000 - 2 * (leaseSizeFor(1000) - 1));
    expect(
      (await one.store.get({ collection: 'rl', key: 'id:shared' }))?.data.count,
    ).toBeLessThanOrEqual(1000);
    // About one write per lease, not one per request.
    expect(one.updates() + two.updates()).toBeLessThan(300);
    await one.store.close();
    await two.store.close();
  });

  it('keeps identities apart', async () => {
    const clock = createFakeClock();
    const store = createMemoryStore();
    const q = createIdentityQuota({
      store,
      collection: 'rl',
      rule: { limit: 2, windowSeconds: WINDOW },
      clock,
    });
    expect((await q.hit('id:x')).allowed).toBe(true);
    expect((await q.hit('id:x')).allowed).toBe(true);
    expect((await q.hit('id:x')).allowed).toBe(false);
    expect((await q.hit('id:y')).allowed).toBe(true);
  });
});
