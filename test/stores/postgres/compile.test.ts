import assert from 'node:assert/strict';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  FieldCondition,
  Json,
  JsonObject,
  Mutation,
  StoredRecord,
} from '../../../src/stores/contract.js';
import {
  compileField,
  compileMutation,
  compileWhere,
  numericFields,
  Params,
} from '../../../src/stores/postgres/compile.js';
import { schemaNames } from '../../../src/stores/postgres/schema.js';
import { updateSql } from '../../../src/stores/postgres/statements.js';
import { createUpdateStatements } from '../../../src/stores/postgres/update-statements.js';
import { applyMutation, matchesField, matchesWhere } from '../../../src/stores/shared/semantics.js';
import { PG_URL, requirePostgres } from '../../support/postgres.js';

const SUITES = ['postgres SQL compiler vs reference semantics (property tests)'];
const available = await requirePostgres(SUITES);

const FIELDS = ['a', 'b', 'n', 'arr', 's'] as const;
const field = fc.constantFrom(...FIELDS);
const safeString = fc.string({ maxLength: 6 }).filter((s) => !s.includes('\u0000'));
const number = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  fc.constantFrom(0.1, 0.2, 0.3, 1e21, 2 ** 60, 5e-324, -1.5, 1 / 3),
);
const scalar: fc.Arbitrary<string | number | boolean | null> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  number,
  fc.constantFrom('x', 'y', '5', '', 'null', 'true', 'a b'),
  safeString,
);
const value: fc.Arbitrary<Json> = fc.oneof(
  scalar,
  fc.array(fc.oneof(fc.constantFrom('x', 'y', 'z'), scalar), { maxLength: 4 }),
  fc.array(fc.array(fc.constantFrom('x', 'y'), { maxLength: 2 }), { maxLength: 2 }),
  fc.dictionary(fc.constantFrom('x', 'y'), scalar, { maxKeys: 2 }),
);
const data: fc.Arbitrary<JsonObject> = fc.dictionary(field, value, { maxKeys: 5 });

const condition: fc.Arbitrary<FieldCondition> = fc.oneof(
  fc.record({ field, op: fc.constantFrom('eq' as const, 'ne' as const), value: scalar }),
  fc.record({
    field,
    op: fc.constantFrom('gt' as const, 'gte' as const, 'lt' as const, 'lte' as const),
    value: number,
  }),
  fc.record({ field, op: fc.constantFrom('exists' as const, 'absent' as const) }),
  fc.record({
    field,
    op: fc.constant('contains' as const),
    value: fc.oneof(fc.constantFrom('x', 'y', 'z', '5'), safeString),
  }),
);

const items = fc.array(fc.oneof(fc.constantFrom('x', 'y', 'z'), safeString), { maxLength: 4 });
type Kind = 'set' | 'inc' | 'unset' | 'add' | 'remove' | 'none';
const mutation: fc.Arbitrary<Mutation> = fc
  .record({
    kinds: fc.tuple(
      ...FIELDS.map(() =>
        fc.constantFrom<Kind>('set', 'inc', 'unset', 'add', 'remove', 'none', 'none'),
      ),
    ),
    setValues: fc.array(value, { minLength: FIELDS.length, maxLength: FIELDS.length }),
    incs: fc.array(number, { minLength: FIELDS.length, maxLength: FIELDS.length }),
    lists: fc.array(items, { minLength: FIELDS.length, maxLength: FIELDS.length }),
    index: fc.dictionary(
      fc.constantFrom('owner', 'role'),
      fc.oneof(fc.constant(null), fc.constantFrom('o1', 'o2')),
      { maxKeys: 2 },
    ),
    expiresAt: fc.oneof(fc.constant(undefined), fc.constant(null), fc.nat()),
  })
  .map(({ kinds, setValues, incs, lists, index, expiresAt }) => {
    const m: {
      set?: JsonObject;
      inc?: Record<string, number>;
      unset?: string[];
      add?: Record<string, string[]>;
      remove?: Record<string, string[]>;
      index?: Record<string, string | null>;
      expiresAt?: number | null;
    } = {};
    FIELDS.forEach((f, i) => {
      const kind = kinds[i];
      if (kind === 'set') m.set = { ...m.set, [f]: setValues[i]! };
      if (kind === 'inc') m.inc = { ...m.inc, [f]: incs[i]! };
      if (kind === 'unset') m.unset = [...(m.unset ?? []), f];
      if (kind === 'add') m.add = { ...m.add, [f]: lists[i]! };
      if (kind === 'remove') m.remove = { ...m.remove, [f]: lists[i]! };
    });
    if (Object.keys(index).length > 0) m.index = index;
    if (expiresAt !== undefined) m.expiresAt = expiresAt;
    return m as Mutation;
  });

/** What a value is after a trip through JSON (as every store returns it). */
const viaJson = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe.skipIf(!available)('postgres SQL compiler', () => {
  let client: pg.Client;

  beforeAll(async () => {
    client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`CREATE TEMP TABLE scratch (
      id integer PRIMARY KEY, data jsonb NOT NULL, idx jsonb NOT NULL,
      version bigint NOT NULL, expires_at bigint)`);
  });
  afterAll(async () => {
    await client?.end();
  });

  it('evaluates every field condition exactly as the reference semantics do', async () => {
    await fc.assert(
      fc.asyncProperty(data, fc.array(condition, { minLength: 1, maxLength: 6 }), async (d, cs) => {
        const p = new Params();
        const col = p.add(JSON.stringify(d), 'jsonb');
        const exprs = cs.map((c) => compileField(c, p, 't.data'));
        const { rows } = await client.query(
          `SELECT ${exprs.map((e, i) => `(${e}) AS c${i}`).join(', ')} FROM (SELECT ${col} AS data) AS t`,
          p.values,
        );
        const stored = viaJson(d);
        cs.forEach((c, i) => {
          assert.equal(rows[0][`c${i}`], matchesField(stored, c), JSON.stringify({ d, c }));
        });
      }),
      { numRuns: 400 },
    );
  });

  it('applies every mutation in one UPDATE exactly as the reference semantics do, or not at all where they throw', async () => {
    await fc.assert(
      fc.asyncProperty(
        data,
        fc.dictionary(fc.constantFrom('owner', 'role'), fc.constantFrom('o1', 'o2'), {
          maxKeys: 2,
        }),
        mutation,
        async (d, idx, m) => {
          await client.query(
            `INSERT INTO scratch (id, data, idx, version, expires_at) VALUES (1, $1, $2, 1, 5)
             ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, idx = EXCLUDED.idx,
               version = 1, expires_at = 5`,
            [JSON.stringify(d), JSON.stringify(idx)],
          );
          const p = new Params();
          const compiled = compileMutation(m, p);
          const id = p.add(1, 'integer');
          const { rows } = await client.query(
            `UPDATE scratch SET ${compiled.set.join(', ')}
             WHERE ${[`id = ${id}`, ...compiled.guards].join(' AND ')}
             RETURNING data, idx, version, expires_at`,
            p.values,
          );
          const before: StoredRecord = {
            collection: 'c',
            key: 'k',
            partition: 'k',
            data: viaJson(d),
            index: idx,
            expiresAt: 5,
            version: 1,
          };
          let expected: StoredRecord | null = null;
          try {
            expected = applyMutation(before, m);
          } catch (err) {
            assert.equal((err as { code?: string }).code, 'ERR_TESSERA_INVALID_INPUT');
          }
          const label = JSON.stringify({ d, idx, m });
          if (expected === null) {
            assert.equal(rows.length, 0, `guards must stop a mutation that throws: ${label}`);
            return;
          }
          assert.equal(rows.length, 1, `the update must apply: ${label}`);
          assert.deepEqual(rows[0].data, viaJson(expected.data), label);
          assert.deepEqual(rows[0].idx, { ...expected.index }, label);
          assert.equal(Number(rows[0].version), 2);
          assert.equal(
            rows[0].expires_at === null ? null : Number(rows[0].expires_at),
            expected.expiresAt,
          );
        },
      ),
      { numRuns: 400 },
    );
  });

  it('applies a mutation under field conditions exactly as the reference does, with the guards those conditions imply left out', async () => {
    await fc.assert(
      fc.asyncProperty(
        data,
        mutation,
        fc.array(condition, { minLength: 1, maxLength: 4 }),
        async (d, m, cs) => {
          await client.query(
            `INSERT INTO scratch (id, data, idx, version, expires_at) VALUES (1, $1, '{}', 1, 5)
             ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, idx = '{}', version = 1,
               expires_at = 5`,
            [JSON.stringify(d)],
          );
          const where = { fields: cs };
          const p = new Params();
          const compiled = compileMutation(m, p, numericFields(where));
          const conds = [`id = ${p.add(1, 'integer')}`, ...compileWhere(where, p)];
          const { rows } = await client.query(
            `UPDATE scratch SET ${compiled.set.join(', ')}
             WHERE ${[...conds, ...compiled.guards].join(' AND ')} RETURNING data`,
            p.values,
          );
          const before: StoredRecord = {
            collection: 'c',
            key: 'k',
            partition: 'k',
            data: viaJson(d),
            index: {},
            expiresAt: 5,
            version: 1,
          };
          let expected: StoredRecord | null = null;
          if (matchesWhere(before, where)) {
            try {
              expected = applyMutation(before, m);
            } catch {
              expected = null;
            }
          }
          const label = JSON.stringify({ d, m, cs });
          assert.equal(rows.length, expected === null ? 0 : 1, label);
          if (expected !== null) assert.deepEqual(rows[0].data, viaJson(expected.data), label);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('adds numbers as IEEE doubles, like JavaScript (0.1 + 0.2)', async () => {
    const p = new Params();
    const compiled = compileMutation({ inc: { n: 0.2 } }, p);
    const id = p.add(1, 'integer');
    await client.query(
      `INSERT INTO scratch (id, data, idx, version) VALUES (1, '{"n": 0.1}', '{}', 1)
       ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data`,
    );
    const { rows } = await client.query(
      `UPDATE scratch SET ${compiled.set.join(', ')} WHERE id = ${id} RETURNING data`,
      p.values,
    );
    expect(rows[0].data.n).toBe(0.1 + 0.2);
    expect(rows[0].data.n).toBe(0.30000000000000004);
  });
});

describe('update statements by shape', () => {
  it('give the text and values of a fresh compilation, whatever update of the same shape came first', () => {
    const names = schemaNames('tessera');
    const updates = createUpdateStatements(names);
    const where = fc.record(
      {
        version: fc.nat({ max: 3 }),
        liveAt: fc.nat({ max: 3 }),
        fields: fc.array(condition, { maxLength: 3 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        mutation,
        fc.option(where, { nil: undefined }),
        fc.boolean(),
        fc.option(fc.nat(), { nil: undefined }),
        (m, w, samePartition, liveNow) => {
          const ref = { collection: 'c', key: 'k', partition: samePartition ? 'k' : 'p' };
          const partition = ref.partition;
          const fresh = updateSql(names, ref, partition, m, w, liveNow);
          const cached = updates.sql(ref, partition, m, w, liveNow);
          assert.equal(cached.text, fresh.text);
          assert.deepEqual(cached.values, fresh.values);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
