/**
 * Every DynamoDB write applies at most once, with the client the user gives
 * it at the AWS SDK's defaults (three attempts): a proxy in front of dynalite
 * forwards a write, lets it apply, and answers 500 instead, so the SDK sends
 * the same request again. The store must apply it once and answer as the first
 * application would have.
 */
import { type AttributeValue, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActionTokens } from '../../../src/action-tokens/index.js';
import { createFakeClock } from '../../../src/core/clock.js';
import type { RecordRef } from '../../../src/stores/contract.js';
import {
  createAccessTokensSeedLayout,
  createDynamoStore,
  type DynamoStore,
  partitionKeyOf,
} from '../../../src/stores/dynamodb/index.js';
import { testKeyring } from '../../../src/testing/index.js';
import {
  createSeedAccessTokensTable,
  sharedTestDynamo,
  stopSharedTestDynamo,
  TEST_CREDENTIALS,
  type TestDynamo,
  uniqueTableName,
} from '../../support/dynalite.js';
import { type FaultProxy, type LoseOptions, startFaultProxy } from './fault-proxy.js';

let dyn: TestDynamo;
let proxy: FaultProxy;
/** A user's client at SDK defaults (standard retries, three attempts), through the proxy. */
let userClient: DynamoDBClient;
/** A direct client, for setup and inspection. */
let direct: DynamoDBClient;
/** A store over the user's client, and one on the same table over the direct client. */
let store: DynamoStore;
let other: DynamoStore;

beforeAll(async () => {
  dyn = await sharedTestDynamo();
  proxy = await startFaultProxy(dyn.endpoint);
  userClient = new DynamoDBClient({
    endpoint: proxy.endpoint,
    region: 'us-east-1',
    credentials: TEST_CREDENTIALS,
  });
  direct = dyn.client();
  const tableName = uniqueTableName();
  store = createDynamoStore({ client: userClient, tableName });
  await store.migrate();
  other = createDynamoStore({ client: direct, tableName });
});
afterAll(async () => {
  userClient.destroy();
  direct.destroy();
  await proxy.close();
  await stopSharedTestDynamo();
});

let n = 0;
const ref = (partition?: string): RecordRef => ({
  collection: 'things',
  key: `k${n++}`,
  ...(partition === undefined ? {} : { partition }),
});

/** Run `fn` with the answer of the next `operation` lost; returns how many were sent. */
async function losing<T>(
  operation: string,
  fn: () => Promise<T>,
  options: LoseOptions = {},
): Promise<{ result: T; sent: number }> {
  const before = proxy.seen[operation] ?? 0;
  const lostBefore = proxy.lost();
  proxy.loseAnswer(operation, options);
  const result = await fn();
  expect(proxy.lost()).toBe(lostBefore + 1);
  return { result, sent: (proxy.seen[operation] ?? 0) - before };
}

describe('a write whose answer was lost, re-sent by the SDK', () => {
  it('spends one use of an action token: tryUse() on 3 uses leaves 2', async () => {
    const clock = createFakeClock();
    const tokens = createActionTokens({ store, keyring: testKeyring(), clock });
    const owner = `u${n++}@example.com`;
    const { value } = await tokens.create({
      owner,
      action: 'verify',
      remainingUses: 3,
      ttlSeconds: 600,
    });
    const { result, sent } = await losing('UpdateItem', () =>
      tokens.tryUse({ owner, action: 'verify', value, drainWhenValid: false }),
    );
    expect(sent).toBe(2);
    expect(result.valid && result.token.remainingUses).toBe(2);
    expect((await tokens.peek({ owner, action: 'verify' })).remainingUses).toBe(2);
  });

  it('decrements once and answers the decremented record', async () => {
    const r = ref();
    await store.put({ ...r, data: { n: 3 }, expiresAt: null }, { mode: 'insert', now: 0 });
    const { result, sent } = await losing('UpdateItem', () =>
      store.update(
        r,
        { inc: { n: -1 } },
        { where: { fields: [{ field: 'n', op: 'gt', value: 0 }] } },
      ),
    );
    expect(sent).toBe(2);
    expect(result).toMatchObject({
      ok: true,
      created: false,
      record: { data: { n: 2 }, version: 2 },
    });
    expect((await other.get(r))?.data).toEqual({ n: 2 });
  });

  it('inserts once and answers success, not "already there"', async () => {
    const r = ref();
    const { result, sent } = await losing('UpdateItem', () =>
      store.put({ ...r, data: { a: 1 }, expiresAt: null }, { mode: 'insert', now: 0 }),
    );
    expect(sent).toBe(2);
    expect(result).toMatchObject({ ok: true, record: { data: { a: 1 }, version: 1 } });
    expect((await other.get(r))?.version).toBe(1);
  });

  it('creates once with orCreate and answers created: true', async () => {
    const r = ref();
    // The first UpdateItem (a mutate) finds nothing; the second creates, and its answer is lost.
    const { result, sent } = await losing(
      'UpdateItem',
      () =>
        store.update(
          r,
          { inc: { count: 1 } },
          { orCreate: { data: { count: 0 }, expiresAt: 60_000 }, now: 0 },
        ),
      { skip: 1 },
    );
    expect(sent).toBe(3);
    expect(result).toMatchObject({ ok: true, created: true, record: { data: { count: 1 } } });
    expect((await other.get(r))?.data).toEqual({ count: 1 });
  });

  it('applies a read-modify-write update once (a pinned PutItem)', async () => {
    const r = ref();
    await store.put(
      { ...r, data: { roles: ['a', 'b'], n: 1 }, expiresAt: null },
      { mode: 'insert', now: 0 },
    );
    // `remove` has no native form: the store reads, plans and writes pinned to what it read.
    const { result, sent } = await losing('PutItem', () =>
      store.update(r, { remove: { roles: ['a'] }, inc: { n: 1 } }),
    );
    expect(sent).toBe(2);
    expect(result).toMatchObject({
      ok: true,
      record: { data: { roles: ['b'], n: 2 }, version: 2 },
    });
    expect((await other.get(r))?.data).toEqual({ roles: ['b'], n: 2 });
  });

  it('commits a transaction once (ClientRequestToken) and answers its records', async () => {
    const r = ref('p');
    const lock = { collection: 'things', key: `lock${n++}`, partition: 'p' };
    await store.put({ ...r, data: { n: 5 }, expiresAt: null }, { mode: 'insert', now: 0 });
    const replayed = dyn.stats.replayed;
    const { result, sent } = await losing('TransactWriteItems', () =>
      store.transact(
        [
          { type: 'update', ref: r, mutation: { inc: { n: -1 } } },
          { type: 'check', ref: lock, absent: true },
        ],
        0,
      ),
    );
    expect(sent).toBe(2);
    expect(dyn.stats.replayed).toBe(replayed + 1);
    expect(result.ok && result.records[0]?.data).toEqual({ n: 4 });
    expect((await other.get(r))?.data).toEqual({ n: 4 });
  });

  it('deletes once and answers the deleted record; the copy never deletes a record created since', async () => {
    const r = ref();
    await store.put({ ...r, data: { gen: 1 }, expiresAt: null }, { mode: 'insert', now: 0 });
    const { result, sent } = await losing('TransactWriteItems', () => store.delete(r), {
      meanwhile: async () => {
        // Between the delete and its copy, someone creates the record again.
        const again = await other.put(
          { ...r, data: { gen: 2 }, expiresAt: null },
          { mode: 'insert', now: 0 },
        );
        expect(again.ok).toBe(true);
      },
    });
    expect(sent).toBe(2);
    expect(result).toMatchObject({ ok: true, previous: { data: { gen: 1 } } });
    expect((await other.get(r))?.data).toEqual({ gen: 2 });
  });

  it('recognizes its copy after three other writes, and answers the record as it is now', async () => {
    const r = ref();
    await store.put({ ...r, data: { n: 3 }, expiresAt: null }, { mode: 'insert', now: 0 });
    const { result } = await losing('UpdateItem', () => store.update(r, { inc: { n: -1 } }), {
      meanwhile: async () => {
        for (let i = 0; i < 3; i++) await other.update(r, { inc: { n: 10 } });
      },
    });
    expect(result).toMatchObject({ ok: true, record: { data: { n: 32 }, version: 5 } });
    expect((await other.get(r))?.data).toEqual({ n: 32 });
  });

  it('judges a copy that four other writes overtook as a new request (the documented bound)', async () => {
    const r = ref();
    await store.put({ ...r, data: { n: 3 }, expiresAt: null }, { mode: 'insert', now: 0 });
    const { result } = await losing('UpdateItem', () => store.update(r, { inc: { n: -1 } }), {
      meanwhile: async () => {
        for (let i = 0; i < 4; i++) await other.update(r, { inc: { n: 10 } });
      },
    });
    // Four writes pushed the call's id out of w..w3: the copy applied again (3 + 40 - 2).
    expect(result).toMatchObject({ ok: true, record: { data: { n: 41 } } });
    expect((await other.get(r))?.data).toEqual({ n: 41 });
  });

  it('holds over a DynamoDBDocumentClient at SDK defaults too', async () => {
    const doc = DynamoDBDocumentClient.from(userClient);
    const s = createDynamoStore({ client: doc, tableName: store.tableName as string });
    const r = ref();
    await s.put({ ...r, data: { n: 1 }, expiresAt: null }, { mode: 'insert', now: 0 });
    const { result } = await losing('UpdateItem', () => s.update(r, { inc: { n: 1 } }));
    expect(result.ok && result.record.data.n).toBe(2);
    expect((await other.get(r))?.data).toEqual({ n: 2 });
  });
});

describe("the store's own retries", () => {
  it('re-send a write whose answer was lost and recognize it (a client that never retries)', async () => {
    const once = new DynamoDBClient({
      endpoint: proxy.endpoint,
      region: 'us-east-1',
      credentials: TEST_CREDENTIALS,
      maxAttempts: 1,
    });
    const s = createDynamoStore({
      client: once,
      tableName: store.tableName as string,
      retry: { baseDelayMs: 1 },
    });
    const r = ref();
    await s.put({ ...r, data: { n: 3 }, expiresAt: null }, { mode: 'insert', now: 0 });
    const { result, sent } = await losing('UpdateItem', () => s.update(r, { inc: { n: -1 } }));
    expect(sent).toBe(2);
    expect(result.ok && result.record.data.n).toBe(2);
    expect((await other.get(r))?.data).toEqual({ n: 2 });
    once.destroy();
  });
});

describe('the @access-tokens/core table layout', () => {
  it('applies a write once, with the write ids inside its own attribute (the seed format stays)', async () => {
    const table = uniqueTableName('seed');
    await createSeedAccessTokensTable(direct, table);
    const layouts = { pat: createAccessTokensSeedLayout({ tableName: table }) };
    const s = createDynamoStore({ client: userClient, tableName: null, layouts });
    const tokenId = 'A'.repeat(21);
    const r = { collection: 'pat', key: tokenId };
    const data = {
      tokenId,
      secretPhc: '$fake',
      owner: 'alice@example.com',
      isAdmin: false,
      createdAt: 1_750_000_000_000,
      uses: 0,
    };
    await s.put({ ...r, data, expiresAt: null }, { mode: 'insert', now: 0 });
    // A layout write is a pinned UpdateItem; its copy fails the pin and is recognized.
    const { result, sent } = await losing('UpdateItem', () => s.update(r, { inc: { uses: 1 } }));
    expect(sent).toBe(2);
    expect(result).toMatchObject({ ok: true, record: { data: { uses: 1 }, version: 2 } });
    const item = (
      await direct.send(
        new GetItemCommand({
          TableName: table,
          Key: { tokenId: { S: tokenId } },
          ConsistentRead: true,
        }),
      )
    ).Item as Record<string, AttributeValue>;
    expect(Object.keys(item).sort()).toEqual(
      ['createdAt', 'isAdmin', 'owner', 'secretPhc', 'tessera', 'tokenId'].sort(),
    );
    const meta = JSON.parse(item.tessera?.S ?? '{}') as {
      w?: string;
      wh?: string[];
      extra?: unknown;
    };
    expect(meta.w).toMatch(/^[A-Za-z0-9_-]{12}u$/);
    expect(meta.wh).toHaveLength(1);
    expect(meta.extra).toEqual({ uses: 1 });

    // A delete is a transaction with a ClientRequestToken: its copy applies nothing.
    const gone = await losing('TransactWriteItems', () => s.delete(r));
    expect(gone.result).toMatchObject({ ok: true, previous: { data: { uses: 1 } } });
    expect(await s.get(r)).toBeNull();
  });
});

describe('the item format', () => {
  it('keeps the ids of the last four writes, newest first, and the creating call in wc', async () => {
    const r = ref();
    const raw = async () =>
      (
        await direct.send(
          new GetItemCommand({
            TableName: store.tableName as string,
            Key: { pk: { S: partitionKeyOf('things', r.key) }, sk: { S: r.key } },
            ConsistentRead: true,
          }),
        )
      ).Item as Record<string, AttributeValue>;
    const ids = async () => {
      const item = await raw();
      return ['w', 'w1', 'w2', 'w3'].map((a) => item[a]?.S);
    };
    await other.update(
      r,
      { inc: { n: 1 } },
      { orCreate: { data: { roles: ['x'] }, expiresAt: null }, now: 0 },
    );
    const [a] = await ids();
    expect(a).toMatch(/^[A-Za-z0-9_-]{12}$/);
    // A missing id is filled with the write's own (it names no other call).
    expect(await ids()).toEqual([a, a, a, a]);
    expect((await raw()).wc?.S).toBe(a);
    await other.update(r, { inc: { n: 1 } });
    const [b] = await ids();
    // Every operand is read before the update: w1 gets the old w, not the new one.
    expect(await ids()).toEqual([b, a, a, a]);
    // `remove` has no native form: a pinned PutItem, which keeps the ids the same way.
    await other.update(r, { remove: { roles: ['x'] } });
    const [c] = await ids();
    expect(await ids()).toEqual([c, b, a, a]);
    await other.put({ ...r, data: { n: 9 }, expiresAt: null }, { mode: 'upsert', now: 0 });
    const [d] = await ids();
    expect(await ids()).toEqual([d, c, b, a]);
    // Only a creating update names itself in wc.
    expect((await raw()).wc?.S).toBe(a);
  });
});
