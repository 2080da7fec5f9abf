/**
 * The DynamoDB store against the reference (the memory store), op by op, on
 * random sequences: every result, every record and every page must be equal.
 * This covers the native compilation (conditions, mutations) and every
 * fallback (values with no native form, NULL counters, unions with items
 * already present, index changes) in one sweep.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type {
  FieldCondition,
  Json,
  Mutation,
  RecordInput,
  Store,
  Where,
} from '../../../src/stores/contract.js';
import {
  createAccessTokensSeedLayout,
  createDynamoStore,
} from '../../../src/stores/dynamodb/index.js';
import { createMemoryStore } from '../../../src/stores/memory/index.js';
import {
  createSeedAccessTokensTable,
  sharedTestDynamo,
  stopSharedTestDynamo,
  uniqueTableName,
} from '../../support/dynalite.js';
import { freshStore } from './helpers.js';

afterAll(() => stopSharedTestDynamo());

const T0 = 1_000_000;
const keys = ['a', 'b'];
/** Fields, including those the @access-tokens/core layout maps to typed attributes. */
const fields = ['n', 's', 'arr', 'z', 'owner', 'roles', 'createdAt', 'isAdmin', 'expiresAt'];

/** A value nested deeper than DynamoDB allows (stored as JSON). */
function nested(depth: number): Json {
  let v: Json = 'bottom';
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

const scalar = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom('x', 'y', '', '5'),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(0.5, 1e200, -2.25),
);
const value: fc.Arbitrary<Json> = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 1, arbitrary: fc.constantFrom(1_750_000_000_123, 1_750_000_000_000, 7) },
  {
    weight: 1,
    arbitrary: fc.array(fc.constantFrom('b', 'a', 'c', ''), { maxLength: 3 }) as fc.Arbitrary<Json>,
  },
  { weight: 1, arbitrary: fc.array(fc.constantFrom('r1', 'r2', 'r3'), { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.record({ deep: fc.array(scalar, { maxLength: 2 }) }) },
  { weight: 1, arbitrary: fc.constantFrom(nested(31), { '': 1 }) as fc.Arbitrary<Json> },
);
const data = fc.dictionary(fc.constantFrom(...fields), value, { maxKeys: 3 });
const expiry = fc.oneof(fc.constant(null), fc.integer({ min: T0 - 5, max: T0 + 20 }));
const index = fc.dictionary(fc.constantFrom('owner', 'tag'), fc.constantFrom('o1', 'o2'), {
  maxKeys: 2,
});

const condition: fc.Arbitrary<FieldCondition> = fc.oneof(
  fc.record({
    field: fc.constantFrom(...fields),
    op: fc.constantFrom('eq' as const, 'ne' as const),
    value: scalar.filter((v) => v !== 1e200) as fc.Arbitrary<string | number | boolean | null>,
  }),
  fc.record({
    field: fc.constantFrom('n', 'z', 'n', 'z', 's'),
    op: fc.constantFrom('gt' as const, 'gte' as const, 'lt' as const, 'lte' as const),
    value: fc.integer({ min: 0, max: 2 }),
  }),
  fc.record({
    field: fc.constantFrom(...fields),
    op: fc.constantFrom('exists' as const, 'absent' as const),
  }),
  fc.record({
    field: fc.constantFrom(...fields),
    op: fc.constant('contains' as const),
    value: fc.constantFrom('r1', 'r2'),
  }),
);
const where: fc.Arbitrary<Where | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.record({ fields: fc.array(condition, { minLength: 1, maxLength: 1 }) }),
  fc.record({ liveAt: fc.integer({ min: T0 - 5, max: T0 + 20 }) }),
  fc.record(
    {
      version: fc.integer({ min: 1, max: 4 }),
      liveAt: fc.integer({ min: T0 - 5, max: T0 + 20 }),
      fields: fc.array(condition, { maxLength: 2 }),
    },
    { requiredKeys: [] },
  ),
);

/** A mutation whose fields are distinct (the contract requires it). */
const exotic: fc.Arbitrary<Mutation> = fc
  .record(
    {
      set: fc.dictionary(
        fc.constantFrom('n', 's', 'owner', 'roles', 'createdAt', 'isAdmin', 'expiresAt'),
        value,
        {
          maxKeys: 1,
        },
      ),
      inc: fc.dictionary(fc.constantFrom('z'), fc.integer({ min: -2, max: 2 }), { maxKeys: 1 }),
      add: fc.dictionary(
        fc.constantFrom('arr'),
        fc.array(fc.constantFrom('r1', 'r2', 'r3'), { maxLength: 2 }),
        { maxKeys: 1 },
      ),
      expiresAt: expiry,
      index: fc.dictionary(
        fc.constantFrom('owner', 'tag'),
        fc.option(fc.constantFrom('o1', 'o2'), { nil: null }),
        { maxKeys: 1 },
      ),
    },
    { requiredKeys: [] },
  )
  .chain((m) =>
    fc
      .boolean()
      .map((useRemove) =>
        useRemove && m.add === undefined ? { ...m, remove: { arr: ['r1'] } } : m,
      ),
  );
/** Mutations DynamoDB applies natively: counters and small values. */
const plain: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ inc: fc.record({ z: fc.integer({ min: -1, max: 1 }) }) }),
  fc.record({ set: fc.record({ n: fc.integer({ min: 0, max: 2 }) }) }),
  fc.record({
    inc: fc.record({ n: fc.integer({ min: -1, max: 1 }) }),
    add: fc.record({ arr: fc.array(fc.constantFrom('r1', 'r2'), { maxLength: 2 }) }),
  }),
);
const mutation = fc.oneof({ weight: 2, arbitrary: plain }, { weight: 1, arbitrary: exotic });

type Op =
  | {
      t: 'put';
      key: string;
      data: Record<string, Json>;
      expiresAt: number | null;
      index: Record<string, string>;
      mode: 'insert' | 'upsert' | 'replace';
      where: Where | undefined;
      now: number;
    }
  | {
      t: 'update';
      key: string;
      mutation: Mutation;
      where: Where | undefined;
      orCreate: boolean;
      now: number;
    }
  | { t: 'delete'; key: string; where: Where | undefined }
  | { t: 'list'; fields: FieldCondition[]; limit: number }
  | { t: 'find'; value: string }
  | { t: 'transact'; a: string; b: string; now: number };

const now = fc.integer({ min: T0 - 2, max: T0 + 25 });
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('put' as const),
      key: fc.constantFrom(...keys),
      data,
      expiresAt: expiry,
      index,
      mode: fc.constantFrom(
        'insert' as const,
        'upsert' as const,
        'upsert' as const,
        'replace' as const,
      ),
      where,
      now,
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('update' as const),
      key: fc.constantFrom(...keys),
      mutation,
      where,
      orCreate: fc.constantFrom(true, true, false),
      now,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('delete' as const),
      key: fc.constantFrom(...keys),
      where,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('list' as const),
      fields: fc.array(condition, { maxLength: 2 }),
      limit: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('find' as const), value: fc.constantFrom('o1', 'o2') }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('transact' as const),
      a: fc.constantFrom('ta', 'tb'),
      b: fc.constantFrom('ta', 'tb'),
      now,
    }),
  },
);

async function outcome(p: () => Promise<unknown>): Promise<unknown> {
  try {
    return { value: await p() };
  } catch (err) {
    return { error: (err as { code?: string }).code ?? String(err) };
  }
}

async function runOp(s: Store, c: string, o: Op): Promise<unknown> {
  switch (o.t) {
    case 'put': {
      const rec: RecordInput = {
        collection: c,
        key: o.key,
        data: o.data,
        expiresAt: o.expiresAt,
        index: o.index,
      };
      return outcome(() =>
        s.put(rec, { mode: o.mode, now: o.now, where: o.mode === 'replace' ? o.where : undefined }),
      );
    }
    case 'update':
      return outcome(() =>
        s.update({ collection: c, key: o.key }, o.mutation, {
          where: o.where,
          ...(o.orCreate ? { orCreate: { data: { z: 1 }, expiresAt: T0 + 10 }, now: o.now } : {}),
        }),
      );
    case 'delete':
      return outcome(() => s.delete({ collection: c, key: o.key }, o.where));
    case 'list': {
      const pages: unknown[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 10; i++) {
        const p = await s.list(c, { limit: o.limit, cursor, fields: o.fields });
        pages.push(...p.records);
        cursor = p.cursor;
        if (cursor === null) break;
      }
      return pages;
    }
    case 'find':
      return (await s.findByIndex(c, 'owner', o.value, { limit: 1000 })).records;
    case 'transact':
      return outcome(() =>
        s.transact(
          [
            {
              type: 'update',
              ref: { collection: c, key: o.a, partition: 'p' },
              mutation: { inc: { z: 1 } },
              orCreate: { data: {}, expiresAt: null },
            },
            ...(o.a === o.b
              ? []
              : [
                  {
                    type: 'check' as const,
                    ref: { collection: c, key: o.b, partition: 'p' },
                    absent: true,
                  },
                ]),
          ],
          o.now,
        ),
      );
  }
}

describe('dynamodb store vs the reference (memory store), on random op sequences', () => {
  it('gives the same result for every op and leaves the same records', async () => {
    const dynamo = await freshStore();
    try {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 8, maxLength: 24 }), async (ops) => {
          const c = `d${run++}`;
          const memory = createMemoryStore();
          for (const [i, o] of ops.entries()) {
            const expected = await runOp(memory, c, o);
            const actual = await runOp(dynamo, c, o);
            expect(actual, `op ${i}: ${JSON.stringify(o)}`).toEqual(expected);
          }
          for (const key of keys) {
            expect(await dynamo.get({ collection: c, key })).toEqual(
              await memory.get({ collection: c, key }),
            );
          }
        }),
        { numRuns: 50 },
      );
    } finally {
      await dynamo.close();
    }
  }, 240_000);

  it('gives the same results on a collection mapped to the @access-tokens/core layout', async () => {
    const dyn = await sharedTestDynamo();
    const client = dyn.client();
    try {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 8, maxLength: 20 }), async (ops) => {
          const c = `pat${run++}`;
          const table = uniqueTableName('seed');
          await createSeedAccessTokensTable(client, table);
          const layered = createDynamoStore({
            client,
            tableName: null,
            layouts: { [c]: createAccessTokensSeedLayout({ tableName: table }) },
          });
          await layered.migrate();
          const memory = createMemoryStore();
          for (const [i, o] of ops.entries()) {
            const expected = await runOp(memory, c, o);
            const actual = await runOp(layered, c, o);
            expect(actual, `op ${i}: ${JSON.stringify(o)}`).toEqual(expected);
          }
          for (const key of keys) {
            expect(await layered.get({ collection: c, key })).toEqual(
              await memory.get({ collection: c, key }),
            );
          }
        }),
        { numRuns: 30 },
      );
    } finally {
      client.destroy();
    }
  }, 240_000);
});
