/**
 * The store conformance suite: every primitive of the contract, its error
 * paths, indexes, pagination, expiry on an injected clock, and concurrency
 * (in-process and, when the backend can share data across processes, across
 * OS processes). It runs unchanged against every backend.
 * @module
 */
import assert from 'node:assert/strict';
import { createFakeClock } from '../core/clock.js';
import type { JsonObject, RecordInput, Store, StoredRecord } from '../stores/contract.js';
import { raceAcrossProcesses, type WorkerStoreSpec } from './race.js';
import { randomSuffix, rejectsWithCode, type SuiteOptions, withStore } from './runner.js';

/** Options of {@link defineStoreSuite}. */
export interface StoreSuiteOptions extends SuiteOptions {
  /**
   * When set, racers also run in separate OS processes that open the same data
   * through this module (see {@link WorkerStoreSpec}). The spec's `arg` must
   * point every worker at the data the test's `createStore()` sees; so for
   * these tests the suite calls `createSharedStore()` instead.
   */
  readonly multiProcess?: {
    /** A store over shared data, plus the spec workers use to open the same data. */
    readonly createSharedStore: () => Promise<{ store: Store; spec: WorkerStoreSpec }>;
    /** OS processes (default 3). */
    readonly processes?: number;
  };
}

const INVALID = 'ERR_TESSERA_INVALID_INPUT';

function rec(
  collection: string,
  key: string,
  data: RecordInput['data'],
  extra: Partial<RecordInput> = {},
): RecordInput {
  return { collection, key, data, expiresAt: null, ...extra };
}

/**
 * Define the store conformance tests with the injected runner.
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * import { defineStoreSuite } from 'tessera/testing';
 * import { createMemoryStore } from 'tessera/stores/memory';
 * defineStoreSuite({ name: 'memory', runner: { describe, it }, createStore: () => createMemoryStore() });
 * ```
 */
export function defineStoreSuite(options: StoreSuiteOptions): void {
  const { describe, it } = options.runner;
  const clock = createFakeClock();
  const col = () => `c${randomSuffix(5)}`;
  const run = (fn: (s: Store) => Promise<void>) => () => withStore(options, fn);

  describe(`store conformance: ${options.name}`, () => {
    describe('get and put', () => {
      it(
        'returns null for a record that was never written',
        run(async (s) => {
          assert.equal(await s.get({ collection: col(), key: 'nope' }), null);
        }),
      );

      it(
        'inserts a record at version 1 with its partition defaulting to the key',
        run(async (s) => {
          const c = col();
          const r = await s.put(
            rec(c, 'k1', { a: 1, nested: { b: [1, 'x', null] } }, { index: { owner: 'o1' } }),
            {
              mode: 'insert',
              now: clock.now(),
            },
          );
          assert.equal(r.ok, true);
          const got = await s.get({ collection: c, key: 'k1' });
          assert.ok(got);
          assert.equal(got.version, 1);
          assert.equal(got.partition, 'k1');
          assert.deepEqual(got.data, { a: 1, nested: { b: [1, 'x', null] } });
          assert.deepEqual({ ...got.index }, { owner: 'o1' });
          assert.equal(got.expiresAt, null);
        }),
      );

      it(
        'refuses to insert over a live record and returns it',
        run(async (s) => {
          const c = col();
          await s.put(rec(c, 'k', { v: 1 }), { mode: 'insert', now: clock.now() });
          const r = await s.put(rec(c, 'k', { v: 2 }), { mode: 'insert', now: clock.now() });
          assert.equal(r.ok, false);
          assert.ok(!r.ok && r.current);
          assert.deepEqual(!r.ok && r.current?.data, { v: 1 });
        }),
      );

      it(
        'inserts over a record that expired but was not swept, continuing its version',
        run(async (s) => {
          const c = col();
          const now = clock.now();
          await s.put(rec(c, 'k', { v: 1 }, { expiresAt: now + 1000 }), { mode: 'insert', now });
          const blocked = await s.put(rec(c, 'k', { v: 2 }), { mode: 'insert', now: now + 999 });
          assert.equal(blocked.ok, false);
          const r = await s.put(rec(c, 'k', { v: 2 }), { mode: 'insert', now: now + 1000 });
          assert.equal(r.ok, true);
          assert.equal(r.ok && r.record.version, 2);
          assert.deepEqual((await s.get({ collection: c, key: 'k' }))?.data, { v: 2 });
        }),
      );

      it(
        'upserts whether or not a record exists',
        run(async (s) => {
          const c = col();
          const a = await s.put(rec(c, 'k', { v: 1 }), { mode: 'upsert', now: clock.now() });
          const b = await s.put(rec(c, 'k', { v: 2 }), { mode: 'upsert', now: clock.now() });
          assert.equal(a.ok && a.record.version, 1);
          assert.equal(b.ok && b.record.version, 2);
          assert.deepEqual((await s.get({ collection: c, key: 'k' }))?.data, { v: 2 });
        }),
      );

      it(
        'replaces only a live record that matches the condition',
        run(async (s) => {
          const c = col();
          const now = clock.now();
          const missing = await s.put(rec(c, 'k', { v: 0 }), { mode: 'replace', now });
          assert.equal(missing.ok, false);
          await s.put(rec(c, 'k', { v: 1 }), { mode: 'insert', now });
          const wrongVersion = await s.put(rec(c, 'k', { v: 2 }), {
            mode: 'replace',
            now,
            where: { version: 7 },
          });
          assert.equal(wrongVersion.ok, false);
          const ok = await s.put(rec(c, 'k', { v: 3 }), {
            mode: 'replace',
            now,
            where: { version: 1 },
          });
          assert.equal(ok.ok, true);
          assert.deepEqual((await s.get({ collection: c, key: 'k' }))?.data, { v: 3 });
        }),
      );

      it(
        "keeps stored data independent of the caller's objects",
        run(async (s) => {
          const c = col();
          const data = { list: ['a'] };
          await s.put(rec(c, 'k', data), { mode: 'insert', now: clock.now() });
          data.list.push('b');
          const got = await s.get({ collection: c, key: 'k' });
          assert.deepEqual(got?.data, { list: ['a'] });
        }),
      );

      it(
        'reads many records in order, with null for the missing ones',
        run(async (s) => {
          const c = col();
          await s.put(rec(c, 'a', { n: 1 }), { mode: 'insert', now: clock.now() });
          await s.put(rec(c, 'b', { n: 2 }), { mode: 'insert', now: clock.now() });
          const got = await s.getMany([
            { collection: c, key: 'b' },
            { collection: c, key: 'zz' },
            { collection: c, key: 'a' },
          ]);
          assert.deepEqual(
            got.map((r) => r?.data ?? null),
            [{ n: 2 }, null, { n: 1 }],
          );
          assert.deepEqual(await s.getMany([]), []);
        }),
      );

      it(
        'keeps collections apart',
        run(async (s) => {
          const a = col();
          const b = col();
          await s.put(rec(a, 'k', { from: 'a' }), { mode: 'insert', now: clock.now() });
          assert.equal(await s.get({ collection: b, key: 'k' }), null);
          const r = await s.put(rec(b, 'k', { from: 'b' }), { mode: 'insert', now: clock.now() });
          assert.equal(r.ok, true);
        }),
      );
    });

    describe('update', () => {
      it(
        'reports a missing record without creating it',
        run(async (s) => {
          const c = col();
          const r = await s.update({ collection: c, key: 'k' }, { set: { a: 1 } });
          assert.deepEqual(r, { ok: false, current: null });
          assert.equal(await s.get({ collection: c, key: 'k' }), null);
        }),
      );

      it(
        'applies set, inc, unset, add, remove, expiry and index changes in one step',
        run(async (s) => {
          const c = col();
          await s.put(
            rec(
              c,
              'k',
              { a: 1, n: 5, gone: true, roles: ['x', 'y'], keep: 'k' },
              { index: { owner: 'o1', other: 'z' } },
            ),
            { mode: 'insert', now: clock.now() },
          );
          const r = await s.update(
            { collection: c, key: 'k' },
            {
              set: { a: 'one', fresh: { deep: [1] } },
              inc: { n: -2, counter: 3 },
              unset: ['gone'],
              add: { roles: ['y', 'z'], tags: ['t'] },
              remove: { keepList: ['q'] },
              expiresAt: 123_456,
              index: { owner: 'o2', other: null },
            },
          );
          assert.equal(r.ok, true);
          const got = await s.get({ collection: c, key: 'k' });
          assert.deepEqual(got?.data, {
            a: 'one',
            n: 3,
            counter: 3,
            roles: ['x', 'y', 'z'],
            tags: ['t'],
            keep: 'k',
            fresh: { deep: [1] },
          });
          assert.equal(got?.expiresAt, 123_456);
          assert.deepEqual({ ...got?.index }, { owner: 'o2' });
          assert.equal(got?.version, 2);
          assert.deepEqual(r.ok && r.record.data, got?.data);
        }),
      );

      it(
        'removes items from a string array',
        run(async (s) => {
          const c = col();
          await s.put(rec(c, 'k', { roles: ['a', 'b', 'c'] }), {
            mode: 'insert',
            now: clock.now(),
          });
          await s.update({ collection: c, key: 'k' }, { remove: { roles: ['b', 'nope'] } });
          assert.deepEqual((await s.get({ collection: c, key: 'k' }))?.data.roles, ['a', 'c']);
        }),
      );

      it(
        'checks version, liveness and every field operator',
        run(async (s) => {
          const c = col();
          const now = clock.now();
          await s.put(
            rec(
              c,
              'k',
              { n: 5, s: 'x', b: true, nil: null, arr: ['r1'] },
              { expiresAt: now + 100 },
            ),
            {
              mode: 'insert',
              now,
            },
          );
          const ref = { collection: c, key: 'k' };
          const tries: Array<[string, Parameters<Store['update']>[2], boolean]> = [
            ['version match', { where: { version: 1 } }, true],
            ['version mismatch', { where: { version: 9 } }, false],
            ['live', { where: { liveAt: now + 99 } }, true],
            ['not live at expiry', { where: { liveAt: now + 100 } }, false],
            ['eq number', { where: { fields: [{ field: 'n', op: 'eq', value: 5 }] } }, true],
            [
              'eq type-strict',
              { where: { fields: [{ field: 'n', op: 'eq', value: '5' }] } },
              false,
            ],
            ['eq string', { where: { fields: [{ field: 's', op: 'eq', value: 'x' }] } }, true],
            ['eq boolean', { where: { fields: [{ field: 'b', op: 'eq', value: true }] } }, true],
            [
              'eq null on null',
              { where: { fields: [{ field: 'nil', op: 'eq', value: null }] } },
              true,
            ],
            [
              'eq null on missing',
              { where: { fields: [{ field: 'missing', op: 'eq', value: null }] } },
              true,
            ],
            ['ne', { where: { fields: [{ field: 's', op: 'ne', value: 'y' }] } }, true],
            ['ne equal', { where: { fields: [{ field: 's', op: 'ne', value: 'x' }] } }, false],
            [
              'ne on missing',
              { where: { fields: [{ field: 'missing', op: 'ne', value: 'x' }] } },
              true,
            ],
            ['gt', { where: { fields: [{ field: 'n', op: 'gt', value: 4 }] } }, true],
            ['gt equal', { where: { fields: [{ field: 'n', op: 'gt', value: 5 }] } }, false],
            ['gte', { where: { fields: [{ field: 'n', op: 'gte', value: 5 }] } }, true],
            ['lt', { where: { fields: [{ field: 'n', op: 'lt', value: 6 }] } }, true],
            ['lte', { where: { fields: [{ field: 'n', op: 'lte', value: 4 }] } }, false],
            ['gt on string', { where: { fields: [{ field: 's', op: 'gt', value: 0 }] } }, false],
            [
              'gt on missing',
              { where: { fields: [{ field: 'missing', op: 'gt', value: -1 }] } },
              false,
            ],
            ['exists', { where: { fields: [{ field: 's', op: 'exists' }] } }, true],
            ['exists on null', { where: { fields: [{ field: 'nil', op: 'exists' }] } }, false],
            [
              'absent on missing',
              { where: { fields: [{ field: 'missing', op: 'absent' }] } },
              true,
            ],
            ['absent on null', { where: { fields: [{ field: 'nil', op: 'absent' }] } }, true],
            ['absent on present', { where: { fields: [{ field: 'n', op: 'absent' }] } }, false],
            [
              'contains',
              { where: { fields: [{ field: 'arr', op: 'contains', value: 'r1' }] } },
              true,
            ],
            [
              'contains missing item',
              { where: { fields: [{ field: 'arr', op: 'contains', value: 'r2' }] } },
              false,
            ],
            [
              'contains on non-array',
              { where: { fields: [{ field: 's', op: 'contains', value: 'x' }] } },
              false,
            ],
            [
              'all conditions together',
              {
                where: {
                  liveAt: now,
                  fields: [
                    { field: 'n', op: 'gt', value: 0 },
                    { field: 's', op: 'eq', value: 'x' },
                  ],
                },
              },
              true,
            ],
            [
              'one of several fails',
              {
                where: {
                  liveAt: now,
                  fields: [
                    { field: 'n', op: 'gt', value: 0 },
                    { field: 's', op: 'eq', value: 'q' },
                  ],
                },
              },
              false,
            ],
          ];
          for (const [label, opts, expected] of tries) {
            const before = await s.get(ref);
            const r = await s.update(ref, { inc: { hits: 1 } }, opts);
            assert.equal(r.ok, expected, label);
            if (!r.ok)
              assert.equal(
                r.current?.version,
                before?.version,
                `${label}: returns the current record`,
              );
          }
        }),
      );

      it(
        'increments the version on every successful update and reports conflicts',
        run(async (s) => {
          const c = col();
          await s.put(rec(c, 'k', { n: 0 }), { mode: 'insert', now: clock.now() });
          const ref = { collection: c, key: 'k' };
          const a = await s.update(ref, { inc: { n: 1 } }, { where: { version: 1 } });
          const b = await s.update(ref, { inc: { n: 1 } }, { where: { version: 1 } });
          assert.equal(a.ok && a.record.version, 2);
          assert.equal(b.ok, false);
          assert.equal(!b.ok && b.current?.version, 2);
        }),
      );

      it(
        'creates with orCreate when absent, and when expired, but applies where when live',
        run(async (s) => {
          const c = col();
          const now = clock.now();
          const ref = { collection: c, key: 'k' };
          const base = { data: { count: 0 }, expiresAt: now + 1000 };
          const first = await s.update(
            ref,
            { inc: { count: 1 } },
            { orCreate: base, now, where: { fields: [{ field: 'count', op: 'lt', value: 2 }] } },
          );
          assert.ok(first.ok && first.created);
          assert.equal(first.ok && first.record.data.count, 1);
          assert.equal(first.ok && first.record.version, 1);
          const second = await s.update(
            ref,
            { inc: { count: 1 } },
            { orCreate: base, now, where: { fields: [{ field: 'count', op: 'lt', value: 2 }] } },
          );
          assert.ok(second.ok && !second.created);
          const third = await s.update(
            ref,
            { inc: { count: 1 } },
            { orCreate: base, now, where: { fields: [{ field: 'count', op: 'lt', value: 2 }] } },
          );
          assert.equal(third.ok, false);
          const later = await s.update(
            ref,
            { inc: { count: 1 } },
            { orCreate: base, now: now + 1000 },
          );
          assert.ok(later.ok && later.created);
          assert.equal(later.ok && later.record.data.count, 1);
          assert.equal(later.ok && later.record.version, 3);
        }),
      );

      it(
        'rejects inc on a non-number and add on a non-array',
        run(async (s) => {
          const c = col();
          await s.put(rec(c, 'k', { s: 'x' }), { mode: 'insert', now: clock.now() });
          await rejectsWithCode(s.update({ collection: c, key: 'k' }, { inc: { s: 1 } }), INVALID);
          await rejectsWithCode(
            s.update({ collection: c, key: 'k' }, { add: { s: ['a'] } }),
            INVALID,
          );
          assert.equal((await s.get({ collection: c, key: 'k' }))?.version, 1);
        }),
      );
    });

    describe('delete', () => {
      it(
        'deletes a record and returns it',
        run(async (s) => {
          const c = col();
          await s.put(rec(c, 'k', { v: 1 }, { index: { owner: 'o' } }), {
            mode: 'insert',
            now: clock.now(),
          });
          const r = await s.delete({ collection: c, key: 'k' });
          assert.ok(r.ok);
          assert.deepEqual(r.ok && r.previous.data, { v: 1 });
          assert.equal(await s.get({ collection: c, key: 'k' }), null);
          assert.equal((await s.findByIndex(c, 'owner', 'o')).records.length, 0);
        }),
      );

      it(
        'reports a missing record and a failed condition',
        run(async (s) => {
          const c = col();
          assert.deepEqual(await s.delete({ collection: c, key: 'k' }), {
            ok: false,
            current: null,
          });
          await s.put(rec(c, 'k', { v: 1 }), { mode: 'insert', now: clock.now() });
          const r = await s.delete({ collection: c, key: 'k' }, { version: 5 });
          assert.equal(r.ok, false);
          assert.equal(!r.ok && r.current?.version, 1);
          assert.ok(await s.get({ collection: c, key: 'k' }));
        }),
      );
    });

    describe('transact', () => {
      it(
        'applies every op when all conditions hold',
        run(async (s) => {
          const c = col();
          const now = clock.now();
          await s.put(rec(c, 'gone', { x: 1 }, { partition: 'p' }), { mode: 'insert', now });
          await s.put(rec(c, 'counter', { n: 1 }, { partition: 'p' }), { mode: 'insert', now });
          const r = await s.transact(
            [
              { type: 'check', ref: { collection: c, key: 'lock', partition: 'p' }, absent: true },
              { type: 'put', record: rec(c, 'new', { y: 2 }, { partition: 'p' }), mode: 'insert' },
              {
                type: 'update',
                ref: { collection: c, key: 'counter', partition: 'p' },
                mutation: { inc: { n: 1 } },
              },
              { type: 'delete', ref: { collection: c, key: 'gone', partition: 'p' } },
            ],
            now,
          );
          assert.ok(r.ok);
          assert.equal(r.ok && r.records.length, 4);
          assert.deepEqual((await s.get({ collection: c, key: 'new', partition: 'p' }))?.data, {
            y: 2,
          });
          assert.equal((await s.get({ collection: c, key: 'counter', partition: 'p' }))?.data.n, 2);
          assert.equal(await s.get({ collection: c, key: 'gone', partition: 'p' }), null);
        }),
      );

      it(
        'applies nothing when one condition fails, and names the failing op',
        run(async (s) => {
          const c = col();
          const now = clock.now();
          await s.put(rec(c, 'a', { n: 1 }, { partition: 'p' }), { mode: 'insert', now });
          await s.put(rec(c, 'b', { n: 1 }, { partition: 'p' }), { mode: 'insert', now });
          const r = await s.transact(
            [
              {
                type: 'update',
                ref: { collection: c, key: 'a', partition: 'p' },
                mutation: { inc: { n: 1 } },
              },
              { type: 'put', record: rec(c, 'c', { n: 1 }, { partition: 'p' }), mode: 'insert' },
              { type: 'put', record: rec(c, 'b', { n: 9 }, { partition: 'p' }), mode: 'insert' },
            ],
            now,
          );
          assert.equal(r.ok, false);
          assert.equal(!r.ok && r.failedIndex, 2);
          assert.equal(!r.ok && r.current?.data.n, 1);
          assert.equal((await s.get({ collection: c, key: 'a', partition: 'p' }))?.data.n, 1);
          assert.equal(await s.get({ collection: c, key: 'c', partition: 'p' }), null);
        }),
      );

      it(
        'fails a check on a live record when absence is required, but not on an expired one',
        run(async (s) => {
          const c = col();
          const now = clock.now();
          await s.put(rec(c, 'lock', {}, { partition: 'p', expiresAt: now + 60_000 }), {
            mode: 'insert',
            now,
          });
          const blocked = await s.transact(
            [
              { type: 'check', ref: { collection: c, key: 'lock', partition: 'p' }, absent: true },
              { type: 'put', record: rec(c, 'x', {}, { partition: 'p' }), mode: 'upsert' },
            ],
            now,
          );
          assert.equal(!blocked.ok && blocked.failedIndex, 0);
          const later = await s.transact(
            [
              { type: 'check', ref: { collection: c, key: 'lock', partition: 'p' }, absent: true },
              { type: 'put', record: rec(c, 'x', {}, { partition: 'p' }), mode: 'upsert' },
            ],
            now + 60_000,
          );
          assert.equal(later.ok, true);
        }),
      );

      it(
        'rejects empty, oversized, cross-partition and duplicate-record transactions',
        run(async (s) => {
          const c = col();
          const now = clock.now();
          await rejectsWithCode(s.transact([], now), INVALID);
          await rejectsWithCode(
            s.transact(
              [{ type: 'put', record: rec(c, 'm', {}), mode: 'sideways' as 'insert' }],
              now,
            ),
            INVALID,
          );
          await rejectsWithCode(
            s.transact([{ type: 'frobnicate', ref: { collection: c, key: 'm' } } as never], now),
            INVALID,
          );
          const many = Array.from({ length: 26 }, (_, i) => ({
            type: 'put' as const,
            record: rec(c, `k${i}`, {}, { partition: 'p' }),
            mode: 'upsert' as const,
          }));
          await rejectsWithCode(s.transact(many, now), INVALID);
          await rejectsWithCode(
            s.transact(
              [
                { type: 'put', record: rec(c, 'a', {}, { partition: 'p1' }), mode: 'upsert' },
                { type: 'put', record: rec(c, 'b', {}, { partition: 'p2' }), mode: 'upsert' },
              ],
              now,
            ),
            INVALID,
          );
          await rejectsWithCode(
            s.transact(
              [
                { type: 'put', record: rec(c, 'a', {}, { partition: 'p' }), mode: 'upsert' },
                { type: 'delete', ref: { collection: c, key: 'a', partition: 'p' } },
              ],
              now,
            ),
            INVALID,
          );
          assert.equal(await s.get({ collection: c, key: 'a', partition: 'p' }), null);
        }),
      );
    });

    describe('list and indexes', () => {
      async function fill(s: Store, c: string, n: number): Promise<string[]> {
        const keys: string[] = [];
        for (let i = 0; i < n; i++) {
          const key = `k${String(i).padStart(3, '0')}`;
          keys.push(key);
          await s.put(
            rec(
              c,
              key,
              { i, roles: i % 3 === 0 ? ['admin'] : ['user'] },
              { index: { owner: i % 2 === 0 ? 'even' : 'odd' } },
            ),
            { mode: 'insert', now: clock.now() },
          );
        }
        return keys;
      }

      async function collect(
        next: (
          cursor: string | null,
        ) => Promise<{ records: readonly StoredRecord[]; cursor: string | null }>,
      ) {
        const keys: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const p = await next(cursor);
          keys.push(...p.records.map((r) => r.key));
          cursor = p.cursor;
          pages++;
          assert.ok(pages < 100, 'pagination terminates');
        } while (cursor !== null);
        return { keys, pages };
      }

      it(
        'lists a collection in key order across pages, each record once',
        run(async (s) => {
          const c = col();
          const keys = await fill(s, c, 23);
          const { keys: seen, pages } = await collect((cursor) => s.list(c, { limit: 5, cursor }));
          assert.deepEqual(seen, keys);
          assert.ok(pages >= 5);
          const one = await s.list(c, { limit: 1000 });
          assert.equal(one.records.length, 23);
          assert.equal(one.cursor, null);
        }),
      );

      it(
        'filters a listing by field conditions in the store',
        run(async (s) => {
          const c = col();
          await fill(s, c, 12);
          const { keys } = await collect((cursor) =>
            s.list(c, {
              limit: 2,
              cursor,
              fields: [{ field: 'roles', op: 'contains', value: 'admin' }],
            }),
          );
          assert.deepEqual(keys, ['k000', 'k003', 'k006', 'k009']);
        }),
      );

      it(
        'finds records by index value, following updates and deletes',
        run(async (s) => {
          const c = col();
          await fill(s, c, 10);
          const { keys: even } = await collect((cursor) =>
            s.findByIndex(c, 'owner', 'even', { limit: 2, cursor }),
          );
          assert.deepEqual(even, ['k000', 'k002', 'k004', 'k006', 'k008']);
          await s.update({ collection: c, key: 'k002' }, { index: { owner: 'odd' } });
          await s.delete({ collection: c, key: 'k004' });
          const after = await s.findByIndex(c, 'owner', 'even');
          assert.deepEqual(
            after.records.map((r) => r.key),
            ['k000', 'k006', 'k008'],
          );
          assert.ok(after.records.every((r) => r.index.owner === 'even'));
          assert.equal((await s.findByIndex(c, 'owner', 'nobody')).records.length, 0);
          assert.equal((await s.findByIndex(col(), 'owner', 'even')).records.length, 0);
        }),
      );

      it(
        'replacing a record replaces its index values',
        run(async (s) => {
          const c = col();
          await s.put(rec(c, 'k', {}, { index: { owner: 'a' } }), {
            mode: 'insert',
            now: clock.now(),
          });
          await s.put(rec(c, 'k', {}, { index: { owner: 'b' } }), {
            mode: 'upsert',
            now: clock.now(),
          });
          assert.equal((await s.findByIndex(c, 'owner', 'a')).records.length, 0);
          assert.equal((await s.findByIndex(c, 'owner', 'b')).records.length, 1);
        }),
      );

      it(
        'rejects bad page sizes and cursors it did not make',
        run(async (s) => {
          const c = col();
          await rejectsWithCode(s.list(c, { limit: 0 }), INVALID);
          await rejectsWithCode(s.list(c, { limit: 1001 }), INVALID);
          await rejectsWithCode(s.list(c, { limit: 1.5 }), INVALID);
          await rejectsWithCode(s.list(c, { cursor: 'not a cursor!' }), INVALID);
          await rejectsWithCode(s.findByIndex(c, 'Bad-Name', 'x'), INVALID);
        }),
      );
    });

    describe('expiry and sweeping', () => {
      it(
        "keeps expired records readable until swept: validity is the caller's decision",
        run(async (s) => {
          const c = col();
          const now = clock.now();
          await s.put(rec(c, 'k', {}, { expiresAt: now + 10 }), { mode: 'insert', now });
          const got = await s.get({ collection: c, key: 'k' });
          assert.equal(got?.expiresAt, now + 10);
        }),
      );

      it(
        'sweeps records expired at or before the cutoff, in bounded batches',
        run(async (s) => {
          const c = col();
          const now = clock.now();
          for (let i = 0; i < 5; i++) {
            await s.put(rec(c, `old${i}`, {}, { expiresAt: now + i, index: { owner: 'x' } }), {
              mode: 'insert',
              now,
            });
          }
          await s.put(rec(c, 'live', {}, { expiresAt: now + 10_000 }), { mode: 'insert', now });
          await s.put(rec(c, 'forever', {}), { mode: 'insert', now });
          // Other tests may share the backend: sweep far below the cutoff of their records.
          let swept = 0;
          swept += await s.sweep(now + 4, { limit: 2 });
          assert.ok(swept <= 2);
          for (let i = 0; i < 20 && (await s.list(c)).records.length > 2; i++)
            swept += await s.sweep(now + 4, { limit: 2 });
          const left = (await s.list(c)).records.map((r) => r.key);
          assert.deepEqual(left, ['forever', 'live']);
          assert.ok(swept >= 5);
          assert.equal((await s.findByIndex(c, 'owner', 'x')).records.length, 0);
        }),
      );

      it(
        'honours a grace period when sweeping',
        run(async (s) => {
          const c = col();
          const now = clock.now();
          await s.put(rec(c, 'k', {}, { expiresAt: now }), { mode: 'insert', now });
          await s.sweep(now + 500, { graceMs: 1000 });
          assert.ok(await s.get({ collection: c, key: 'k' }));
          await s.sweep(now + 1000, { graceMs: 1000 });
          assert.equal(await s.get({ collection: c, key: 'k' }), null);
        }),
      );
    });

    describe('input validation', () => {
      it(
        'rejects bad addresses, data, indexes and clocks with InvalidInputError',
        run(async (s) => {
          const now = clock.now();
          const c = col();
          await rejectsWithCode(s.get({ collection: 'Bad Name', key: 'k' }), INVALID);
          await rejectsWithCode(s.get({ collection: c, key: '' }), INVALID);
          await rejectsWithCode(s.get({ collection: c, key: 'a\u0000b' }), INVALID);
          await rejectsWithCode(s.get({ collection: c, key: 'x'.repeat(513) }), INVALID);
          await rejectsWithCode(
            s.put(rec(c, 'k', { n: Number.NaN }), { mode: 'insert', now }),
            INVALID,
          );
          await rejectsWithCode(
            s.put(rec(c, 'k', { d: new Date() as unknown as string }), { mode: 'insert', now }),
            INVALID,
          );
          await rejectsWithCode(
            s.put(rec(c, 'k', { 'bad field': 1 }), { mode: 'insert', now }),
            INVALID,
          );
          const bad: JsonObject[] = [{ s: 'a\u0000b' }, { s: 'a\ud800b' }, { o: { 'k\u0000': 1 } }];
          for (const data of bad) {
            await rejectsWithCode(s.put(rec(c, 'k', data), { mode: 'insert', now }), INVALID);
          }
          await rejectsWithCode(
            s.put(rec(c, 'k', { big: 'x'.repeat(70_000) }), { mode: 'insert', now }),
            INVALID,
          );
          await rejectsWithCode(
            s.put(rec(c, 'k', {}, { index: { a: '1', b: '2', c: '3', d: '4', e: '5' } }), {
              mode: 'insert',
              now,
            }),
            INVALID,
          );
          await rejectsWithCode(
            s.put(rec(c, 'k', {}, { expiresAt: -1 }), { mode: 'insert', now }),
            INVALID,
          );
          await rejectsWithCode(
            s.put(rec(c, 'k', {}), { mode: 'insert', now: Number.NaN }),
            INVALID,
          );
          await rejectsWithCode(
            s.put(rec(c, 'k', {}), { mode: 'sideways' as 'insert', now }),
            INVALID,
          );
          await rejectsWithCode(
            s.update({ collection: c, key: 'k' }, { set: { a: 1 }, unset: ['a'] }),
            INVALID,
          );
          await rejectsWithCode(
            s.update(
              { collection: c, key: 'k' },
              { inc: { a: 1 } },
              { where: { fields: [{ field: 'a', op: 'gt', value: 'x' as unknown as number }] } },
            ),
            INVALID,
          );
          await rejectsWithCode(
            s.update(
              { collection: c, key: 'k' },
              { inc: { a: 1 } },
              { orCreate: { data: {}, expiresAt: null } },
            ),
            INVALID,
          );
          assert.equal(await s.get({ collection: c, key: 'k' }), null);
        }),
      );
    });

    describe('concurrency', () => {
      it(
        'gives exactly N successes to K > N parallel decrements in one process',
        run(async (s) => {
          const c = col();
          const now = clock.now();
          await s.put(rec(c, 'k', { uses: 20 }), { mode: 'insert', now });
          const results = await Promise.all(
            Array.from({ length: 60 }, () =>
              s.update(
                { collection: c, key: 'k' },
                { inc: { uses: -1 } },
                { where: { liveAt: now, fields: [{ field: 'uses', op: 'gt', value: 0 }] } },
              ),
            ),
          );
          assert.equal(results.filter((r) => r.ok).length, 20);
          assert.equal((await s.get({ collection: c, key: 'k' }))?.data.uses, 0);
        }),
      );

      it(
        'lets exactly one of many parallel inserts win',
        run(async (s) => {
          const c = col();
          const now = clock.now();
          const results = await Promise.all(
            Array.from({ length: 30 }, (_, i) =>
              s.put(rec(c, 'k', { i }), { mode: 'insert', now }),
            ),
          );
          assert.equal(results.filter((r) => r.ok).length, 1);
        }),
      );

      it(
        'counts every parallel orCreate increment',
        run(async (s) => {
          const c = col();
          const now = clock.now();
          await Promise.all(
            Array.from({ length: 40 }, () =>
              s.update(
                { collection: c, key: 'k' },
                { inc: { n: 1 } },
                { orCreate: { data: {}, expiresAt: now + 60_000 }, now },
              ),
            ),
          );
          assert.equal((await s.get({ collection: c, key: 'k' }))?.data.n, 40);
        }),
      );

      if (options.multiProcess) {
        const mp = options.multiProcess;
        const processes = mp.processes ?? 3;
        it(`gives exactly min(K, N) successes to racers in ${processes} OS processes`, async () => {
          const { store, spec } = await mp.createSharedStore();
          try {
            const c = col();
            const now = clock.now();
            await store.put(rec(c, 'k', { uses: 25 }), { mode: 'insert', now });
            const result = await raceAcrossProcesses(
              spec,
              { kind: 'decrement', collection: c, key: 'k', now },
              processes,
              15,
            );
            assert.deepEqual(result.errors, []);
            assert.equal(result.successes, 25);
            assert.equal(result.failures, processes * 15 - 25);
            assert.equal((await store.get({ collection: c, key: 'k' }))?.data.uses, 0);
          } finally {
            await store.close();
          }
        }, 120_000);

        it(`lets exactly one insert win across ${processes} OS processes`, async () => {
          const { store, spec } = await mp.createSharedStore();
          try {
            const c = col();
            const result = await raceAcrossProcesses(
              spec,
              { kind: 'insert', collection: c, key: 'k', now: clock.now() },
              processes,
              10,
            );
            assert.deepEqual(result.errors, []);
            assert.equal(result.successes, 1);
            assert.ok(await store.get({ collection: c, key: 'k' }));
          } finally {
            await store.close();
          }
        }, 120_000);
      }
    });

    describe('events', () => {
      it(
        'delivers published messages to subscribers until they unsubscribe',
        run(async (s) => {
          const channel = `t:${randomSuffix(4)}`;
          const got: string[] = [];
          let resolveFirst: () => void = () => {};
          const first = new Promise<void>((r) => {
            resolveFirst = r;
          });
          const off = await s.events.subscribe(channel, (m) => {
            got.push(m);
            resolveFirst();
          });
          await s.events.publish(channel, 'hello');
          await Promise.race([
            first,
            new Promise((_, rej) =>
              setTimeout(() => rej(new Error('no message within 2 s')), 2000),
            ),
          ]);
          await off();
          await s.events.publish(channel, 'after');
          assert.deepEqual(got, ['hello']);
          await rejectsWithCode(s.events.publish('Bad Channel', 'x'), INVALID);
        }),
      );
    });
  });
}
