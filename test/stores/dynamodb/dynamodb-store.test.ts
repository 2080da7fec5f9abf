import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConflictError,
  InvalidInputError,
  StoreError,
  StoreUnavailableError,
} from '../../../src/core/errors.js';
import type { Json } from '../../../src/stores/contract.js';
import {
  createDynamoStore,
  createDynamoStoreFromEnv,
  type DynamoDBSendClient,
  parseDynamoUrl,
  partitionKeyOf,
  tableDefinition,
} from '../../../src/stores/dynamodb/index.js';
import { raceAcrossProcesses } from '../../../src/testing/index.js';
import {
  sharedTestDynamo,
  stopSharedTestDynamo,
  testClient,
  uniqueTableName,
} from '../../support/dynalite.js';
import { freshStore, WORKER_MODULE } from './helpers.js';

afterAll(() => stopSharedTestDynamo());

const rec = (key: string, extra: Record<string, unknown> = {}) => ({
  collection: 'things',
  key,
  data: { n: 1 },
  expiresAt: null,
  ...extra,
});

type Sent = { name: string; input: Record<string, unknown> };

/** A client that records every command and lets a test intercept some. */
function spyClient(
  inner: DynamoDBSendClient,
  intercept?: (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => unknown,
): DynamoDBSendClient & { sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      sent.push({ name: command.constructor.name, input: command.input });
      const override = intercept?.(command);
      if (override instanceof Error) throw override;
      if (typeof override === 'function') return (override as () => Promise<unknown>)();
      return inner.send(command);
    },
  };
}

function awsError(name: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} (injected)`), { name, ...extra });
}

async function rawItem(client: DynamoDBClient, tableName: string, collection: string, key: string) {
  const out = await client.send(
    new GetItemCommand({
      TableName: tableName,
      Key: { pk: { S: partitionKeyOf(collection, key) }, sk: { S: key } },
      ConsistentRead: true,
    }),
  );
  return out.Item;
}

describe('migrate', () => {
  it('creates the table with its key, four sparse KEYS_ONLY indexes and on-demand billing', async () => {
    const store = await freshStore();
    const dyn = await sharedTestDynamo();
    const client = dyn.client();
    const t = (await client.send(new DescribeTableCommand({ TableName: store.tableName }))).Table;
    expect(t?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(t?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(
      t?.GlobalSecondaryIndexes?.map((g) => [g.IndexName, g.Projection?.ProjectionType]),
    ).toEqual([
      ['gsi1', 'KEYS_ONLY'],
      ['gsi2', 'KEYS_ONLY'],
      ['gsi3', 'KEYS_ONLY'],
      ['gsi4', 'KEYS_ONLY'],
    ]);
    expect(store.indexNames).toEqual(['gsi1', 'gsi2', 'gsi3', 'gsi4']);
    client.destroy();
    await store.close();
  });

  it('is idempotent and keeps data', async () => {
    const store = await freshStore();
    await store.put(rec('k1'), { mode: 'insert', now: 0 });
    await store.migrate();
    await store.migrate();
    expect((await store.get({ collection: 'things', key: 'k1' }))?.data).toEqual({ n: 1 });
    await store.close();
  });

  it('creates the table exactly once when four processes migrate at once', async () => {
    const dyn = await sharedTestDynamo();
    const tableName = uniqueTableName();
    const result = await raceAcrossProcesses(
      {
        module: WORKER_MODULE,
        exportName: 'createStore',
        arg: { endpoint: dyn.endpoint, tableName },
      },
      { kind: 'insert', collection: 'c', key: 'k', now: 0 },
      4,
      2,
    );
    expect(result.errors).toEqual([]);
    expect(result.successes).toBe(1);
  }, 60_000);

  it("refuses a missing table in 'verify' mode and a table with another key schema", async () => {
    const dyn = await sharedTestDynamo();
    const client = dyn.client();
    const verify = createDynamoStore({
      client,
      tableName: uniqueTableName(),
      migrateMode: 'verify',
    });
    await expect(verify.migrate()).rejects.toThrow(/does not exist/);
    const other = uniqueTableName();
    await client.send(
      new CreateTableCommand({
        TableName: other,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      }),
    );
    const wrong = createDynamoStore({ client, tableName: other });
    await expect(wrong.migrate()).rejects.toBeInstanceOf(StoreError);
    await expect(wrong.migrate()).rejects.toThrow(/key \(id\)/);
    client.destroy();
  });

  it('tolerates an emulator without UpdateTimeToLive, and asks for it on DynamoDB', async () => {
    const dyn = await sharedTestDynamo();
    const spy = spyClient(dyn.client());
    const store = createDynamoStore({ client: spy, tableName: uniqueTableName() });
    await store.migrate();
    const ttl = spy.sent.find((s) => s.name === 'UpdateTimeToLiveCommand');
    expect(ttl?.input).toEqual({
      TableName: store.tableName,
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
  });

  it('describes the table it creates', () => {
    const def = tableDefinition('t1', ['a1', 'a2', 'a3', 'a4']);
    expect(def.GlobalSecondaryIndexes?.[3]?.KeySchema).toEqual([
      { AttributeName: 'i4', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
  });
});

describe('item format', () => {
  it('stores data as a Map, expiry in ms, a TTL in seconds after a grace period, and index slots', async () => {
    const store = await freshStore({ ttlGraceSeconds: 60 });
    const dyn = await sharedTestDynamo();
    const client = dyn.client();
    await store.put(
      rec('k1', {
        expiresAt: 1_700_000_000_500,
        index: { owner: 'o#1', role: 'r' },
        partition: 'p',
      }),
      { mode: 'insert', now: 0 },
    );
    const item = await rawItem(client, store.tableName, 'things', 'k1');
    expect(item).toMatchObject({
      pk: { S: 'things#1' },
      sk: { S: 'k1' },
      p: { S: 'p' },
      v: { N: '1' },
      d: { M: { n: { N: '1' } } },
      x: { N: '1700000000500' },
      ttl: { N: String(1_700_000_001 + 60) },
      i1: { S: 'things#owner#o#1' },
      i2: { S: 'things#role#r' },
    });
    expect(item?.w?.S).toMatch(/^[A-Za-z0-9_-]{12}$/);
    const found = await store.findByIndex('things', 'owner', 'o#1');
    expect(found.records.map((r) => r.key)).toEqual(['k1']);
    client.destroy();
    await store.close();
  });

  it('spreads a collection over 16 partition key values, computed from each key', () => {
    // Part of the item format: these values must never change.
    expect(partitionKeyOf('things', 'k1')).toBe('things#1');
    expect(partitionKeyOf('action', 'k:login:alice')).toBe('action#7');
    expect(partitionKeyOf('action', 'é🙂')).toBe('action#b');
    const shards = new Map<string, number>();
    for (let i = 0; i < 1600; i++) {
      const pk = partitionKeyOf('action', `k:verify-email:user${i}%40example.com`);
      shards.set(pk, (shards.get(pk) ?? 0) + 1);
    }
    expect(shards.size).toBe(16);
    for (const n of shards.values()) expect(n).toBeGreaterThan(80);
  });

  it('lists a collection spread over its shards in exact key order, page by page, filtered or not', async () => {
    const store = await freshStore();
    const dyn = await sharedTestDynamo();
    const client = dyn.client();
    // Keys that sort differently as UTF-16 and as UTF-8 bytes too (DynamoDB's order).
    const keys = Array.from({ length: 40 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    keys.push('k\u{1F600}', 'k\uFF5E');
    for (const [i, key] of keys.entries()) {
      await store.put(rec(key, { data: { n: i % 3 } }), { mode: 'insert', now: 0 });
    }
    const pks = new Set<string>();
    for (const key of keys)
      pks.add(String((await rawItem(client, store.tableName, 'things', key))?.pk?.S));
    expect(pks.size).toBeGreaterThan(8);
    const utf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    const all = async (fields?: Array<{ field: string; op: 'eq'; value: number }>) => {
      const out: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await store.list('things', { limit: 7, cursor, fields });
        expect(page.records.length).toBeLessThanOrEqual(7);
        out.push(...page.records.map((r) => r.key));
        cursor = page.cursor;
      } while (cursor !== null);
      return out;
    };
    expect(await all()).toEqual([...keys].sort(utf8));
    const ones = keys.filter((_, i) => i % 3 === 1).sort(utf8);
    expect(await all([{ field: 'n', op: 'eq', value: 1 }])).toEqual(ones);
    const first = await store.list('things', { limit: 1 });
    expect(first.records.map((r) => r.key)).toEqual(['k00']);
    client.destroy();
    await store.close();
  });

  it('keeps values DynamoDB cannot hold natively as JSON, with exact semantics', async () => {
    const store = await freshStore();
    const dyn = await sharedTestDynamo();
    const client = dyn.client();
    let deep: Json = 'bottom';
    for (let i = 0; i < 31; i++) deep = [deep];
    const data = { big: 1e200, tiny: 5e-324, odd: { '': 1 }, deep, n: 2 };
    await store.put(rec('j', { data }), { mode: 'insert', now: 0 });
    expect((await rawItem(client, store.tableName, 'things', 'j'))?.dj?.S).toBe(
      JSON.stringify(data),
    );
    expect((await store.get({ collection: 'things', key: 'j' }))?.data).toEqual(data);
    const up = await store.update(
      { collection: 'things', key: 'j' },
      { inc: { n: 1 } },
      { where: { fields: [{ field: 'n', op: 'gt', value: 1 }] } },
    );
    expect(up.ok && up.record.data.n).toBe(3);
    const miss = await store.update(
      { collection: 'things', key: 'j' },
      { inc: { n: 1 } },
      { where: { fields: [{ field: 'n', op: 'gt', value: 5 }] } },
    );
    expect(miss.ok).toBe(false);
    const listed = await store.list('things', { fields: [{ field: 'n', op: 'eq', value: 3 }] });
    expect(listed.records.map((r) => r.key)).toEqual(['j']);
    // Setting a native value back turns the record into a Map again.
    await store.put(rec('j', { data: { n: 1 } }), { mode: 'upsert', now: 0 });
    const item = await rawItem(client, store.tableName, 'things', 'j');
    expect(item?.dj).toBeUndefined();
    expect(item?.d).toEqual({ M: { n: { N: '1' } } });
    client.destroy();
    await store.close();
  });

  it('counts a NULL field as 0 and keeps union order when some items are there, like the reference', async () => {
    const store = await freshStore();
    await store.put(rec('k', { data: { n: null, roles: ['a', 'b'] } }), { mode: 'insert', now: 0 });
    const r = await store.update(
      { collection: 'things', key: 'k' },
      { inc: { n: 2 }, add: { roles: ['c', 'a', 'c'] } },
    );
    expect(r.ok && r.record.data).toEqual({ n: 2, roles: ['a', 'b', 'c'] });
    expect(r.ok && r.record.version).toBe(2);
    await store.close();
  });

  it('refuses keys longer than DynamoDB sort keys allow (1024 bytes of UTF-8)', async () => {
    const store = await freshStore();
    await expect(
      store.put(rec('é'.repeat(513)), { mode: 'insert', now: 0 }),
    ).rejects.toBeInstanceOf(InvalidInputError);
    expect((await store.put(rec('é'.repeat(512)), { mode: 'insert', now: 0 })).ok).toBe(true);
    await store.close();
  });

  it('refuses to move a record to another partition, on every write path', async () => {
    const store = await freshStore();
    await store.put(rec('k', { partition: 'p1' }), { mode: 'insert', now: 0 });
    const ref = { collection: 'things', key: 'k', partition: 'p2' };
    await expect(
      store.put(rec('k', { partition: 'p2' }), { mode: 'upsert', now: 0 }),
    ).rejects.toBeInstanceOf(InvalidInputError);
    await expect(store.update(ref, { set: { a: 1 } })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(store.delete(ref)).rejects.toBeInstanceOf(InvalidInputError);
    expect((await store.get(ref))?.partition).toBe('p1');
    await store.close();
  });
});

describe('conditions that fail', () => {
  it('reads the item after a failed condition when DynamoDB does not return it', async () => {
    const dyn = await sharedTestDynamo();
    const spy = spyClient(dyn.client());
    const store = createDynamoStore({ client: spy, tableName: uniqueTableName() });
    await store.migrate();
    await store.put(rec('k'), { mode: 'insert', now: 0 });
    spy.sent.length = 0;
    const r = await store.put(rec('k'), { mode: 'insert', now: 0 });
    expect(r.ok).toBe(false);
    expect(spy.sent.map((s) => s.name)).toEqual(['UpdateItemCommand', 'GetItemCommand']);
    expect(spy.sent[0]?.input.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
  });

  it('uses the item DynamoDB returns with the failure, and then trusts its absence', async () => {
    const dyn = await sharedTestDynamo();
    const inner = dyn.client();
    // Act as DynamoDB does: attach the old item to ConditionalCheckFailedException.
    const realistic: DynamoDBSendClient = {
      async send(command: { input: Record<string, unknown> }) {
        try {
          return await inner.send(command as never);
        } catch (err) {
          const e = err as { name?: string; Item?: unknown };
          if (e.name === 'ConditionalCheckFailedException') {
            const input = command.input as {
              TableName: string;
              Key?: unknown;
              Item?: Record<string, unknown>;
            };
            const key = input.Key ?? { pk: input.Item?.pk, sk: input.Item?.sk };
            const got = await inner.send(
              new GetItemCommand({
                TableName: input.TableName,
                Key: key as never,
                ConsistentRead: true,
              }),
            );
            if (got.Item) e.Item = got.Item;
          }
          throw err;
        }
      },
    };
    const spy = spyClient(realistic);
    const store = createDynamoStore({ client: spy, tableName: uniqueTableName() });
    await store.migrate();
    await store.put(rec('k'), { mode: 'insert', now: 0 });
    spy.sent.length = 0;
    const r = await store.put(rec('k'), { mode: 'insert', now: 0 });
    expect(r.ok === false && r.current?.data).toEqual({ n: 1 });
    expect(spy.sent.map((s) => s.name)).toEqual(['UpdateItemCommand']);
    spy.sent.length = 0;
    const missing = await store.update({ collection: 'things', key: 'nope' }, { set: { a: 1 } });
    expect(missing).toEqual({ ok: false, current: null });
    expect(spy.sent.map((s) => s.name)).toEqual(['UpdateItemCommand']);
    inner.destroy();
  });

  it('gives up with ConflictError when the item changes under every attempt', async () => {
    const store = await freshStore();
    const dyn = await sharedTestDynamo();
    const other = dyn.client();
    await store.put(rec('k', { data: { roles: ['a'] } }), { mode: 'insert', now: 0 });
    // Every read-modify-write round loses: something rewrites the item in between.
    const spy = spyClient(other, (cmd) => {
      if (cmd.constructor.name === 'PutItemCommand' && cmd.input.ConditionExpression) {
        return async () => {
          await other.send(
            new UpdateItemCommand({
              TableName: store.tableName,
              Key: { pk: { S: partitionKeyOf('things', 'k') }, sk: { S: 'k' } },
              UpdateExpression: 'SET w = :w',
              ExpressionAttributeValues: { ':w': { S: String(Math.random()) } },
            }),
          );
          return other.send(new PutItemCommand(cmd.input as never));
        };
      }
      return undefined;
    });
    const racing = createDynamoStore({ client: spy, tableName: store.tableName });
    await expect(
      racing.update({ collection: 'things', key: 'k' }, { remove: { roles: ['a'] } }),
    ).rejects.toBeInstanceOf(ConflictError);
    other.destroy();
    await store.close();
  }, 60_000);
});

describe('index lookups', () => {
  it('confirms every hit against the base item, so a stale index entry never shows', async () => {
    const store = await freshStore();
    const dyn = await sharedTestDynamo();
    await store.put(rec('k1', { index: { owner: 'o' } }), { mode: 'insert', now: 0 });
    await store.put(rec('k2', { index: { owner: 'x' } }), { mode: 'insert', now: 0 });
    // A GSI lagging behind: gsi1 still lists k2 under owner o.
    const spy = spyClient(dyn.client(), (cmd) => {
      if (cmd.constructor.name === 'QueryCommand' && cmd.input.IndexName === 'gsi1') {
        return async () => ({
          Items: [
            {
              pk: { S: partitionKeyOf('things', 'k1') },
              sk: { S: 'k1' },
              i1: { S: 'things#owner#o' },
            },
            {
              pk: { S: partitionKeyOf('things', 'k2') },
              sk: { S: 'k2' },
              i1: { S: 'things#owner#o' },
            },
          ],
        });
      }
      return undefined;
    });
    const lagging = createDynamoStore({ client: spy, tableName: store.tableName });
    const page = await lagging.findByIndex('things', 'owner', 'o');
    expect(page.records.map((r) => r.key)).toEqual(['k1']);
    const confirm = spy.sent.find((s) => s.name === 'BatchGetItemCommand');
    expect(JSON.stringify(confirm?.input)).toContain('"ConsistentRead":true');
    await store.close();
  });

  it('pages through hits spread over several index slots in key order', async () => {
    const store = await freshStore();
    for (let i = 0; i < 9; i++) {
      // The name 'm' lands in slot 1, 2 or 3 depending on the record's other names.
      const index: Record<string, string> = { m: 'v' };
      if (i % 3 >= 1) index.a = 'x';
      if (i % 3 === 2) index.b = 'y';
      await store.put(rec(`k${i}`, { index }), { mode: 'insert', now: 0 });
    }
    const keys: string[] = [];
    let cursor: string | null = null;
    do {
      const p = await store.findByIndex('things', 'm', 'v', { limit: 2, cursor });
      keys.push(...p.records.map((r) => r.key));
      cursor = p.cursor;
    } while (cursor !== null);
    expect(keys).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8']);
    await store.close();
  });
});

describe('transact', () => {
  it('sends one TransactWriteItems with every item pinned to what was read', async () => {
    const dyn = await sharedTestDynamo();
    const spy = spyClient(dyn.client());
    const store = createDynamoStore({ client: spy, tableName: uniqueTableName() });
    await store.migrate();
    await store.put(rec('a', { partition: 'p' }), { mode: 'insert', now: 0 });
    spy.sent.length = 0;
    const before = dyn.stats.committed;
    const r = await store.transact(
      [
        {
          type: 'update',
          ref: { collection: 'things', key: 'a', partition: 'p' },
          mutation: { inc: { n: 1 } },
        },
        { type: 'check', ref: { collection: 'things', key: 'lock', partition: 'p' }, absent: true },
      ],
      0,
    );
    expect(r.ok).toBe(true);
    expect(spy.sent.map((s) => s.name)).toEqual([
      'BatchGetItemCommand',
      'TransactWriteItemsCommand',
    ]);
    const input = spy.sent[1]?.input as {
      TransactItems: Array<Record<string, { ConditionExpression: string }>>;
    };
    const items = input.TransactItems;
    expect(Object.keys(items[0] ?? {})).toEqual(['Put']);
    expect(items[0]?.Put?.ConditionExpression).toMatch(/^#n\d+ = :v\d+$/);
    expect(Object.keys(items[1] ?? {})).toEqual(['ConditionCheck']);
    expect(items[1]?.ConditionCheck?.ConditionExpression).toMatch(/^attribute_not_exists/);
    expect(dyn.stats.committed).toBe(before + 1);
  });

  it('starts over when an item changes between the read and the commit', async () => {
    const store = await freshStore();
    const dyn = await sharedTestDynamo();
    const other = dyn.client();
    await store.put(rec('a', { partition: 'p', data: { n: 1 } }), { mode: 'insert', now: 0 });
    let meddled = false;
    const spy = spyClient(other, (cmd) => {
      if (cmd.constructor.name === 'TransactWriteItemsCommand' && !meddled) {
        meddled = true;
        return async () => {
          await store.update(
            { collection: 'things', key: 'a', partition: 'p' },
            { inc: { n: 10 } },
          );
          return other.send(cmd as never);
        };
      }
      return undefined;
    });
    const racing = createDynamoStore({ client: spy, tableName: store.tableName });
    const r = await racing.transact(
      [
        {
          type: 'update',
          ref: { collection: 'things', key: 'a', partition: 'p' },
          mutation: { inc: { n: 1 } },
        },
      ],
      0,
    );
    expect(r.ok).toBe(true);
    expect((await store.get({ collection: 'things', key: 'a' }))?.data.n).toBe(12);
    expect(spy.sent.filter((s) => s.name === 'TransactWriteItemsCommand')).toHaveLength(2);
    other.destroy();
    await store.close();
  });
});

describe('errors and retries', () => {
  it('retries throttled requests with backoff, then succeeds', async () => {
    const dyn = await sharedTestDynamo();
    let throttles = 2;
    const spy = spyClient(dyn.client(), (cmd) => {
      if (cmd.constructor.name === 'GetItemCommand' && throttles > 0) {
        throttles--;
        return awsError('ProvisionedThroughputExceededException');
      }
      return undefined;
    });
    const store = createDynamoStore({
      client: spy,
      tableName: uniqueTableName(),
      retry: { baseDelayMs: 1 },
    });
    await store.migrate();
    expect(await store.get({ collection: 'things', key: 'k' })).toBeNull();
    expect(spy.sent.filter((s) => s.name === 'GetItemCommand')).toHaveLength(3);
  });

  it('fails closed with StoreUnavailableError when throttling outlasts the retries', async () => {
    const dyn = await sharedTestDynamo();
    const spy = spyClient(dyn.client(), (cmd) =>
      cmd.constructor.name === 'UpdateItemCommand' ? awsError('ThrottlingException') : undefined,
    );
    const store = createDynamoStore({
      client: spy,
      tableName: uniqueTableName(),
      retry: { maxAttempts: 3, baseDelayMs: 1 },
    });
    await store.migrate();
    const err = await store.put(rec('k'), { mode: 'insert', now: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(spy.sent.filter((s) => s.name === 'UpdateItemCommand')).toHaveLength(3);
  });

  it('re-sends writes whose outcome is unknown (a copy cannot apply twice) and reads, then fails closed', async () => {
    const dyn = await sharedTestDynamo();
    let writes = 2;
    let reads = 1;
    const spy = spyClient(dyn.client(), (cmd) => {
      if (cmd.constructor.name === 'UpdateItemCommand' && writes-- > 0) {
        return awsError('InternalServerError', { $metadata: { httpStatusCode: 500 } });
      }
      if (cmd.constructor.name === 'GetItemCommand' && reads-- > 0) {
        return awsError('InternalServerError', { $metadata: { httpStatusCode: 500 } });
      }
      return undefined;
    });
    const store = createDynamoStore({
      client: spy,
      tableName: uniqueTableName(),
      retry: { maxAttempts: 3, baseDelayMs: 1 },
    });
    await store.migrate();
    const r = await store.put(rec('k'), { mode: 'insert', now: 0 });
    expect(r.ok && r.record.version).toBe(1);
    const sent = spy.sent.filter((s) => s.name === 'UpdateItemCommand');
    expect(sent).toHaveLength(3);
    // The very same request each time: its write id is what makes a copy harmless.
    expect(new Set(sent.map((s) => JSON.stringify(s.input))).size).toBe(1);
    expect((await store.get({ collection: 'things', key: 'k' }))?.data).toEqual({ n: 1 });
    expect(spy.sent.filter((s) => s.name === 'GetItemCommand')).toHaveLength(2);
    writes = 3;
    await expect(
      store.update({ collection: 'things', key: 'k' }, { inc: { n: 1 } }),
    ).rejects.toBeInstanceOf(StoreUnavailableError);
    expect((await store.get({ collection: 'things', key: 'k' }))?.data).toEqual({ n: 1 });
  });

  it('reports an unreachable endpoint as StoreUnavailableError', async () => {
    const client = testClient('http://127.0.0.1:9');
    const store = createDynamoStore({
      client,
      tableName: 'nowhere',
      retry: { maxAttempts: 2, baseDelayMs: 1 },
    });
    const err = await store.get({ collection: 'things', key: 'k' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as Error).message).toMatch(/ECONNREFUSED|connect/i);
    client.destroy();
  });

  it('reports a missing table as StoreError with a hint', async () => {
    const dyn = await sharedTestDynamo();
    const client = dyn.client();
    const store = createDynamoStore({ client, tableName: uniqueTableName() });
    const err = await store.put(rec('k'), { mode: 'insert', now: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('ERR_TESSERA_STORE');
    expect((err as Error).message).toMatch(/did you run migrate\(\)/);
    expect((err as StoreError).cause).toMatchObject({ name: 'ResourceNotFoundException' });
    client.destroy();
  });

  it('passes validation errors through and fails closed after close()', async () => {
    const dyn = await sharedTestDynamo();
    const client = dyn.client();
    const tableName = uniqueTableName();
    const store = createDynamoStore({ client, tableName });
    await store.migrate();
    await expect(store.list('Bad Name')).rejects.toBeInstanceOf(InvalidInputError);
    await expect(store.sweep(0, { limit: 0 })).rejects.toBeInstanceOf(InvalidInputError);
    await store.close();
    await store.close();
    await expect(store.get({ collection: 'things', key: 'k' })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    // The caller's client is not destroyed: it still works.
    expect(
      (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableName,
    ).toBe(tableName);
    client.destroy();
  });

  it('rejects bad options with TypeError or RangeError', () => {
    const client = testClient('http://127.0.0.1:9');
    expect(() => createDynamoStore({ client, tableName: 'x' })).toThrow(TypeError);
    expect(() => createDynamoStore({ client: {} as never })).toThrow(TypeError);
    expect(() => createDynamoStore({ client, ttlGraceSeconds: -1 })).toThrow(RangeError);
    expect(() => createDynamoStore({ client, indexPrefix: 'bad prefix' })).toThrow(TypeError);
    expect(() => createDynamoStore({ client, retry: { maxAttempts: 0 } })).toThrow(RangeError);
    expect(() => createDynamoStore({ client, layouts: { Bad: {} as never } })).toThrow(TypeError);
    client.destroy();
  });
});

describe('clients and configuration', () => {
  it('works over a DynamoDBDocumentClient', async () => {
    const dyn = await sharedTestDynamo();
    const base = dyn.client();
    const doc = DynamoDBDocumentClient.from(base);
    const store = createDynamoStore({ client: doc, tableName: uniqueTableName() });
    await store.migrate();
    await store.put(rec('k', { data: { roles: ['a'], n: 1 } }), { mode: 'insert', now: 0 });
    const r = await store.update({ collection: 'things', key: 'k' }, { inc: { n: 1 } });
    expect(r.ok && r.record.data).toEqual({ roles: ['a'], n: 2 });
    await store.close();
    base.destroy();
  });

  it('opens from a URL and from the environment the CDK construct sets', async () => {
    expect(parseDynamoUrl('dynamodb://MyTable?region=eu-west-1&ttlGraceSeconds=10')).toEqual({
      tableName: 'MyTable',
      region: 'eu-west-1',
      ttlGraceSeconds: 10,
    });
    expect(parseDynamoUrl('dynamodb:t-1?endpoint=http://127.0.0.1:8000&migrate=verify')).toEqual({
      tableName: 't-1',
      endpoint: 'http://127.0.0.1:8000',
      migrateMode: 'verify',
    });
    expect(() => parseDynamoUrl('dynamodb://x')).toThrow(/must name a table/);
    expect(() => parseDynamoUrl('dynamodb://table?password=1')).toThrow(/unknown/);
    expect(() => parseDynamoUrl('sqlite:x')).toThrow(/not a dynamodb/);
    expect(() => createDynamoStoreFromEnv({})).toThrow(/TESSERA_DYNAMODB_TABLE/);
    const s = createDynamoStoreFromEnv({
      TESSERA_DYNAMODB_TABLE: 'from-env',
      TESSERA_DYNAMODB_INDEX_PREFIX: 'lookup',
    });
    expect([s.tableName, ...s.indexNames]).toEqual([
      'from-env',
      'lookup1',
      'lookup2',
      'lookup3',
      'lookup4',
    ]);
    await s.close();
  });

  it('creates and owns a client from an endpoint', async () => {
    const dyn = await sharedTestDynamo();
    process.env.AWS_ACCESS_KEY_ID ??= 'test';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
    const store = createDynamoStore({ endpoint: dyn.endpoint, tableName: uniqueTableName() });
    await store.migrate();
    expect((await store.put(rec('k'), { mode: 'insert', now: 0 })).ok).toBe(true);
    await store.close();
    await expect(store.get({ collection: 'things', key: 'k' })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
  });
});

describe('sweep', () => {
  it('deletes only items expired at or before the cutoff, with a condition, in bounded calls', async () => {
    const store = await freshStore();
    for (let i = 0; i < 6; i++) {
      await store.put(rec(`e${i}`, { expiresAt: 1000 + i, index: { owner: 'o' } }), {
        mode: 'insert',
        now: 0,
      });
    }
    await store.put(rec('live', { expiresAt: 5000 }), { mode: 'insert', now: 0 });
    await store.put(rec('forever'), { mode: 'insert', now: 0 });
    expect(await store.sweep(1003, { limit: 2 })).toBe(2);
    expect(await store.sweep(1003, { limit: 100 })).toBe(2);
    expect(await store.sweep(1003)).toBe(0);
    expect(await store.sweep(2000)).toBe(2);
    const left = (await store.list('things')).records.map((r) => r.key);
    expect(left).toEqual(['forever', 'live']);
    expect((await store.findByIndex('things', 'owner', 'o')).records).toEqual([]);
    await store.close();
  });
});

describe('events', () => {
  it('delivers in-process only (DynamoDB has no pub/sub)', async () => {
    const a = await freshStore();
    const got: string[] = [];
    await a.events.subscribe('cache:x', (m) => got.push(m));
    await a.events.publish('cache:x', 'hi');
    expect(got).toEqual(['hi']);
    await a.close();
  });
});
