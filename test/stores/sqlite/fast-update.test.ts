import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type {
  FieldCondition,
  Json,
  JsonObject,
  Mutation,
  StoredRecord,
  Where,
} from '../../../src/stores/contract.js';
import { applyMutation, matchesWhere } from '../../../src/stores/shared/semantics.js';
import { checkUpdate } from '../../../src/stores/shared/sync-engine.js';
import { createFastUpdater } from '../../../src/stores/sqlite/fast-update.js';
import { createSqliteStore } from '../../../src/stores/sqlite/index.js';
import { tableNames } from '../../../src/stores/sqlite/schema.js';
import { type RecordRow, rowToRecord } from '../../../src/stores/sqlite/statements.js';

const FIELDS = ['a', 'b', 'n'] as const;
const field = fc.constantFrom(...FIELDS);
const MAX = Number.MAX_SAFE_INTEGER;
const integer = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(MAX, -MAX, MAX - 1, 2 ** 31, -(2 ** 31) - 1),
);
const number = fc.oneof(integer, integer, fc.constantFrom(0.5, -2.5, 1e21, 2 ** 60, 1 / 3));
const scalar: fc.Arbitrary<string | number | boolean | null> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  number,
  fc.constantFrom('x', '1', '', 'null', 'true', 'é "q" \\ \u2028', '𝄞', '["x"]', '[]', '{"x":"x"}'),
);
const value: fc.Arbitrary<Json> = fc.oneof(
  scalar,
  scalar,
  fc.array(fc.constantFrom('x', 'y'), { maxLength: 2 }),
  fc.dictionary(fc.constantFrom('x', 'y'), scalar, { maxKeys: 2 }),
);
const data = fc.dictionary(field, value, { maxKeys: 3 }) as fc.Arbitrary<JsonObject>;
/** Stored texts no JSON.stringify writes, but a file may hold. */
const odd = fc.constantFrom(
  '{"n":2.0}',
  '{"n":1e2}',
  '{"n":-0}',
  '{"n":9007199254740993}',
  '{"n":9223372036854775807}',
  '{"a":"x","n":1.5}',
);

const condition: fc.Arbitrary<FieldCondition> = fc.oneof(
  fc.record({ field, op: fc.constantFrom('eq' as const, 'ne' as const), value: scalar }),
  fc.record({
    field,
    op: fc.constantFrom('gt' as const, 'gte' as const, 'lt' as const, 'lte' as const),
    value: number,
  }),
  fc.record({ field, op: fc.constantFrom('exists' as const, 'absent' as const) }),
  fc.record({ field, op: fc.constant('contains' as const), value: fc.constantFrom('x', 'y') }),
);
const where: fc.Arbitrary<Where | undefined> = fc.option(
  fc.record(
    {
      version: fc.constantFrom(1, 2),
      liveAt: fc.constantFrom(0, 99, 100, 101),
      fields: fc.array(condition, { maxLength: 3 }),
    },
    { requiredKeys: [] },
  ),
  { nil: undefined, freq: 3 },
);

type Kind = 'set' | 'inc' | 'none';
const mutation: fc.Arbitrary<Mutation> = fc
  .record({
    kinds: fc.tuple(...FIELDS.map(() => fc.constantFrom<Kind>('set', 'inc', 'none'))),
    setValues: fc.tuple(...FIELDS.map(() => fc.oneof(scalar, scalar, value))),
    incs: fc.tuple(...FIELDS.map(() => fc.oneof(integer, number))),
    expiresAt: fc.constantFrom(undefined, null, 0, 150),
    extra: fc.constantFrom(undefined, undefined, undefined, undefined, 'unset', 'index'),
  })
  .map(({ kinds, setValues, incs, expiresAt, extra }) => {
    const m: {
      set?: JsonObject;
      inc?: Record<string, number>;
      unset?: string[];
      index?: Record<string, string>;
      expiresAt?: number | null;
    } = {};
    FIELDS.forEach((f, i) => {
      if (kinds[i] === 'set') m.set = { ...m.set, [f]: setValues[i] as Json };
      if (kinds[i] === 'inc') m.inc = { ...m.inc, [f]: incs[i] as number };
    });
    if (expiresAt !== undefined) m.expiresAt = expiresAt;
    if (extra === 'unset') m.unset = ['zz'];
    if (extra === 'index') m.index = { owner: 'o2' };
    return m as Mutation;
  });

const db = new Database(':memory:');
const store = createSqliteStore({ database: db });
await store.migrate();
const names = tableNames('tessera_');
const fast = createFastUpdater(db, names);
afterAll(() => store.close());

const writeRow = db.prepare(
  `INSERT OR REPLACE INTO ${names.records} (collection, key, partition, data, idx, version, expires_at)
   VALUES ('c', 'k', 'p', ?, '{"owner":"o1"}', 1, ?)`,
);
const readRow = db.prepare(
  `SELECT collection, key, partition, data, idx, version, expires_at FROM ${names.records}
   WHERE collection = 'c' AND key = 'k'`,
);

describe('sqlite fast update vs the reference semantics (property tests)', () => {
  it('changes a record only as the reference semantics would, and nothing else when it declines', async () => {
    let applied = 0;
    let declined = 0;
    await fc.assert(
      fc.property(
        fc.oneof(
          data.map((d) => JSON.stringify(d)),
          odd,
        ),
        fc.constantFrom(100, null),
        fc.constantFrom('p', 'p', 'p', 'q'),
        mutation,
        where,
        (text, expiresAt, partition, m, w) => {
          writeRow.run(text, expiresAt);
          const ref = { collection: 'c', key: 'k', partition };
          const options = w === undefined ? {} : { where: w };
          try {
            checkUpdate(ref, m, options);
          } catch {
            return; // refused before either path runs
          }
          const beforeRow = readRow.get() as RecordRow;
          const before: StoredRecord = rowToRecord(beforeRow);
          let expected: StoredRecord | 'not applied' | 'throws' = 'not applied';
          if (partition === before.partition && matchesWhere(before, w)) {
            try {
              expected = applyMutation(before, m);
            } catch {
              expected = 'throws';
            }
          }
          const got = fast.update(ref, partition, m, options);
          const label = JSON.stringify({ text, expiresAt, partition, m, w });
          if (got === undefined) {
            declined++;
            assert.deepEqual(
              readRow.get(),
              beforeRow,
              `a declined update changes nothing: ${label}`,
            );
            return;
          }
          applied++;
          assert.ok(got.ok && typeof expected === 'object', `applied only where due: ${label}`);
          assert.deepEqual(got.record.data, expected.data, label);
          assert.equal(got.record.version, 2, label);
          assert.equal(got.record.expiresAt, expected.expiresAt, label);
          assert.deepEqual(got.record.index, expected.index, label);
          assert.equal(got.record.partition, 'p');
          assert.deepEqual(rowToRecord(readRow.get() as RecordRow), got.record, label);
        },
      ),
      { numRuns: 3000 },
    );
    // Both outcomes must be exercised for the property to mean anything.
    expect(applied).toBeGreaterThan(200);
    expect(declined).toBeGreaterThan(200);
  });

  it('runs the update of an action-token use in one statement, and leaves real numbers to the general path', () => {
    const text = JSON.stringify({ remainingUses: 3, valueHash: 'h', failures: 0 });
    writeRow.run(text, 100);
    const ref = { collection: 'c', key: 'k', partition: 'p' };
    const use = (h: string) =>
      fast.update(
        ref,
        'p',
        { inc: { remainingUses: -1 } },
        {
          where: {
            liveAt: 99,
            fields: [
              { field: 'remainingUses', op: 'gt', value: 0 },
              { field: 'valueHash', op: 'eq', value: h },
              { field: 'failures', op: 'lt', value: 10 },
            ],
          },
        },
      );
    expect(use('h')).toMatchObject({
      ok: true,
      record: { data: { remainingUses: 2 }, version: 2 },
    });
    expect(use('wrong')).toBeUndefined();
    writeRow.run(JSON.stringify({ remainingUses: 2.5, valueHash: 'h', failures: 0 }), 100);
    expect(use('h')).toBeUndefined();
    expect(rowToRecord(readRow.get() as RecordRow).data.remainingUses).toBe(2.5);
  });

  it('gives the same results as the reference semantics through store.update', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          data.map((d) => JSON.stringify(d)),
          odd,
        ),
        mutation,
        where,
        async (text, m, w) => {
          writeRow.run(text, 100);
          const ref = { collection: 'c', key: 'k', partition: 'p' };
          const before = rowToRecord(readRow.get() as RecordRow);
          let expected: StoredRecord | 'not applied' | 'throws' = 'not applied';
          if (matchesWhere(before, w)) {
            try {
              expected = applyMutation(before, m);
            } catch {
              expected = 'throws';
            }
          }
          const label = JSON.stringify({ text, m, w });
          let got: Awaited<ReturnType<typeof store.update>> | 'throws';
          try {
            got = await store.update(ref, m, w === undefined ? {} : { where: w });
          } catch (err) {
            assert.equal((err as { code?: string }).code, 'ERR_TESSERA_INVALID_INPUT', label);
            got = 'throws';
          }
          if (expected === 'throws' || got === 'throws') {
            // Invalid input (a NaN, a field twice) is refused before any semantics apply.
            if (got !== 'throws') assert.fail(`expected a refusal: ${label}`);
            return;
          }
          if (expected === 'not applied') {
            assert.ok(!got.ok, label);
            if (!got.ok) assert.deepEqual(got.current, before, label);
            return;
          }
          assert.ok(got.ok, label);
          if (got.ok) {
            assert.deepEqual(got.record.data, expected.data, label);
            assert.deepEqual(got.record.index, expected.index, label);
            assert.equal(got.record.expiresAt, expected.expiresAt, label);
            assert.equal(got.record.version, expected.version, label);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });
});
