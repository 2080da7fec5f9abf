/**
 * The @access-tokens/core table layout: a collection mapped onto a table
 * created in that package's layout and filled with raw items in its format
 * (scrypt PHCs, String Set roles, epoch-second timestamps).
 */
import { randomBytes, scryptSync } from 'node:crypto';
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError, StoreError } from '../../../src/core/errors.js';
import { verifyPhc } from '../../../src/core/hashing.js';
import type { Store } from '../../../src/stores/contract.js';
import {
  createAccessTokensSeedLayout,
  createDynamoStore,
  type DynamoDBSendClient,
} from '../../../src/stores/dynamodb/index.js';
import {
  createSeedAccessTokensTable,
  sharedTestDynamo,
  stopSharedTestDynamo,
  uniqueTableName,
} from '../../support/dynalite.js';

type Item = Record<string, AttributeValue>;

const NOW_S = 1_750_000_000;
const NOW = NOW_S * 1000;

/** A 21-character base62 token id, as the seed's id62() makes. */
function id62(): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  return Array.from(randomBytes(21), (b) => alphabet[b % 62]).join('');
}

/** `$scrypt$ln=14,r=8,p=1$<salt>$<hash>`, as @access-tokens/core writes it (small cost here). */
function seedPhc(secret: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(secret, salt, 32, { N: 2 ** 10, r: 8, p: 1 });
  const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
  return `$scrypt$ln=10,r=8,p=1$${b64(salt)}$${b64(hash)}`;
}

/** The seed's zod record schema (BEHAVIOUR.md §2.4), as a check on raw items. */
function seedSchemaErrors(item: Item): string[] {
  const errors: string[] = [];
  const int = (a: AttributeValue | undefined) =>
    a?.N !== undefined && Number.isSafeInteger(Number(a.N)) && Number(a.N) >= 0;
  const nullableInt = (a: AttributeValue | undefined) =>
    a === undefined || a.NULL === true || int(a);
  if (!/^[a-zA-Z0-9]{21}$/.test(item.tokenId?.S ?? '')) errors.push('tokenId');
  const phc = item.secretPhc?.S ?? '';
  if (phc.length < 1 || phc.length > 200) errors.push('secretPhc');
  const owner = item.owner?.S ?? '';
  if (owner.length < 1 || owner.length > 100) errors.push('owner');
  if (item.isAdmin !== undefined && item.isAdmin.BOOL === undefined) errors.push('isAdmin');
  if (item.roles !== undefined) {
    const roles = item.roles.SS;
    if (
      roles === undefined ||
      roles.length > 50 ||
      roles.some((r) => r.length < 1 || r.length > 100)
    ) {
      errors.push('roles');
    }
  }
  if (!int(item.createdAt)) errors.push('createdAt');
  for (const a of ['lastUsedAt', 'revokedAt', 'expiresAt'])
    if (!nullableInt(item[a])) errors.push(a);
  return errors;
}

let tableName = '';
let ownerIndexed = '';
let client: DynamoDBClient;
const ids = { alice: id62(), revoked: id62(), expired: id62(), bob: id62() };
const secret = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I=';

async function raw(id: string, table = tableName): Promise<Item | undefined> {
  return (
    await client.send(
      new GetItemCommand({ TableName: table, Key: { tokenId: { S: id } }, ConsistentRead: true }),
    )
  ).Item;
}

async function seedItems(table: string): Promise<void> {
  const put = (Item: Item) => client.send(new PutItemCommand({ TableName: table, Item }));
  await put({
    tokenId: { S: ids.alice },
    secretPhc: { S: seedPhc(secret) },
    owner: { S: 'alice@example.com' },
    isAdmin: { BOOL: true },
    roles: { SS: ['reader', 'admin'] },
    createdAt: { N: String(NOW_S - 1000) },
    lastUsedAt: { N: String(NOW_S - 10) },
    expiresAt: { N: String(NOW_S + 3600) },
  });
  await put({
    tokenId: { S: ids.revoked },
    secretPhc: { S: seedPhc('other') },
    owner: { S: 'alice@example.com' },
    isAdmin: { BOOL: false },
    createdAt: { N: String(NOW_S - 2000) },
    revokedAt: { N: String(NOW_S - 5) },
    expiresAt: { NULL: true },
  });
  await put({
    tokenId: { S: ids.expired },
    secretPhc: { S: '$fake' },
    owner: { S: 'bob@example.com' },
    isAdmin: { BOOL: false },
    createdAt: { N: String(NOW_S - 9000) },
    expiresAt: { N: String(NOW_S - 100) },
    // README-only attributes some deployments carry: never touched.
    updatedAt: { N: String(NOW_S - 9000) },
    isRevoked: { BOOL: false },
  });
}

function storeOver(
  table: string,
  extra: { client?: DynamoDBSendClient; gsi?: boolean } = {},
): Store {
  return createDynamoStore({
    client: extra.client ?? client,
    tableName: uniqueTableName(),
    layouts: {
      pat: createAccessTokensSeedLayout({
        tableName: table,
        indexes: { owner: { field: 'owner', ...(extra.gsi ? { gsiName: 'owner-index' } : {}) } },
      }),
    },
  });
}

beforeAll(async () => {
  const dyn = await sharedTestDynamo();
  client = dyn.client();
  tableName = uniqueTableName('seed-pat');
  ownerIndexed = uniqueTableName('seed-pat-gsi');
  await createSeedAccessTokensTable(client, tableName);
  await createSeedAccessTokensTable(client, ownerIndexed, true);
  await seedItems(tableName);
  await seedItems(ownerIndexed);
});
afterAll(async () => {
  client.destroy();
  await stopSharedTestDynamo();
});

describe('the @access-tokens/core layout', () => {
  it('reads items the seed wrote: seconds become ms, the String Set a sorted list, the PHC as is', async () => {
    const store = storeOver(tableName);
    await store.migrate();
    const a = await store.get({ collection: 'pat', key: ids.alice });
    expect(a).toEqual({
      collection: 'pat',
      key: ids.alice,
      partition: ids.alice,
      data: {
        tokenId: ids.alice,
        secretPhc: expect.stringMatching(
          /^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/,
        ),
        owner: 'alice@example.com',
        isAdmin: true,
        roles: ['admin', 'reader'],
        createdAt: (NOW_S - 1000) * 1000,
        lastUsedAt: (NOW_S - 10) * 1000,
        expiresAt: (NOW_S + 3600) * 1000,
      },
      expiresAt: (NOW_S + 3600) * 1000,
      index: { owner: 'alice@example.com' },
      version: 1,
    });
    expect(await verifyPhc(secret, a?.data.secretPhc as string)).toEqual({ valid: true });
    expect((await verifyPhc('wrong', a?.data.secretPhc as string)).valid).toBe(false);
    const r = await store.get({ collection: 'pat', key: ids.revoked });
    expect(r?.data.revokedAt).toBe((NOW_S - 5) * 1000);
    expect(r?.data.expiresAt).toBeNull();
    expect(r?.expiresAt).toBeNull();
    expect(r?.data.roles).toBeUndefined();
    await store.close();
  });

  it('writes back in the seed format, keeping attributes it does not know', async () => {
    const store = storeOver(tableName);
    const ref = { collection: 'pat', key: ids.expired };
    const up = await store.update(ref, {
      set: { lastUsedAt: NOW + 123 },
      add: { roles: ['writer'] },
    });
    expect(up.ok && up.record.data.lastUsedAt).toBe(NOW + 123);
    expect(up.ok && up.record.version).toBe(2);
    const item = await raw(ids.expired);
    expect(seedSchemaErrors(item ?? {})).toEqual([]);
    expect(item).toMatchObject({
      lastUsedAt: { N: String(NOW_S) },
      roles: { SS: ['writer'] },
      updatedAt: { N: String(NOW_S - 9000) },
      isRevoked: { BOOL: false },
      secretPhc: { S: '$fake' },
    });
    expect(JSON.parse(item?.tessera?.S ?? '{}')).toMatchObject({
      v: 2,
      ms: { lastUsedAt: NOW + 123 },
    });
    // And the exact value comes back, ms and all.
    expect((await store.get(ref))?.data.lastUsedAt).toBe(NOW + 123);
    await store.close();
  });

  it('round-trips a record Tessera writes exactly, and the seed can parse the item', async () => {
    const store = storeOver(tableName);
    const key = id62();
    const record = {
      collection: 'pat',
      key,
      partition: `p-${key}`,
      data: {
        tokenId: key,
        secretPhc: seedPhc('s3'),
        owner: 'carol@example.com',
        isAdmin: false,
        roles: ['zeta', 'alpha'],
        createdAt: NOW + 7,
        lastUsedAt: null,
        expiresAt: NOW + 60_500,
        format: 'tessera',
        scopes: { read: true },
      },
      // The record's own expiry: when it may be collected, after the token's.
      expiresAt: NOW + 86_400_000,
      index: { owner: 'carol@example.com', kind: 'pat' },
    };
    const put = await store.put(record, { mode: 'insert', now: NOW });
    expect(put.ok).toBe(true);
    expect(await store.get(record)).toEqual({ ...record, version: 1 });
    const item = await raw(key);
    expect(seedSchemaErrors(item ?? {})).toEqual([]);
    expect(item).toMatchObject({
      tokenId: { S: key },
      roles: { SS: ['zeta', 'alpha'] },
      createdAt: { N: String(NOW_S) },
      expiresAt: { N: String(NOW_S + 60) },
    });
    // A null is left out (as the seed leaves unset fields out), and still reads back as null.
    expect(item?.lastUsedAt).toBeUndefined();
    expect(item?.format).toBeUndefined();
    // Emptying the roles removes the set (as the seed does) and still reads back [].
    await store.update(record, { set: { roles: [] } });
    expect((await raw(key))?.roles).toBeUndefined();
    expect((await store.get(record))?.data.roles).toEqual([]);
    // The key field cannot disagree with the key.
    await expect(
      store.put({ ...record, key: id62() }, { mode: 'insert', now: NOW }),
    ).rejects.toBeInstanceOf(InvalidInputError);
    await store.close();
  });

  it('reads what the seed changed after Tessera wrote the item', async () => {
    const store = storeOver(tableName);
    const key = id62();
    const ref = { collection: 'pat', key };
    await store.put(
      {
        ...ref,
        data: {
          secretPhc: '$x',
          owner: 'dan',
          isAdmin: false,
          createdAt: NOW + 1,
          lastUsedAt: NOW + 500,
        },
        expiresAt: null,
        index: { owner: 'dan' },
      },
      { mode: 'insert', now: NOW },
    );
    // The seed's touch(): SET lastUsedAt = now (seconds).
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { tokenId: { S: key } },
        UpdateExpression: 'SET lastUsedAt = :now',
        ExpressionAttributeValues: { ':now': { N: String(NOW_S + 99) } },
      }),
    );
    expect((await store.get(ref))?.data.lastUsedAt).toBe((NOW_S + 99) * 1000);
    await store.close();
  });

  it('pins every write to the item as read, so a concurrent seed write is never lost', async () => {
    const key = id62();
    const ref = { collection: 'pat', key };
    let meddled = false;
    const meddling: DynamoDBSendClient = {
      async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
        if (
          command.constructor.name === 'UpdateItemCommand' &&
          !meddled &&
          command.input.ConditionExpression
        ) {
          meddled = true;
          await client.send(
            new UpdateItemCommand({
              TableName: tableName,
              Key: { tokenId: { S: key } },
              UpdateExpression: 'SET revokedAt = :t',
              ExpressionAttributeValues: { ':t': { N: String(NOW_S) } },
            }),
          );
        }
        return client.send(command as never);
      },
    };
    const setup = storeOver(tableName);
    await setup.put(
      {
        ...ref,
        data: { secretPhc: '$x', owner: 'eve', isAdmin: false, createdAt: NOW },
        expiresAt: null,
        index: { owner: 'eve' },
      },
      { mode: 'insert', now: NOW },
    );
    const store = storeOver(tableName, { client: meddling });
    const r = await store.update(ref, { set: { isAdmin: true } });
    expect(r.ok && r.record.data).toMatchObject({ isAdmin: true, revokedAt: NOW_S * 1000 });
    expect((await raw(key))?.revokedAt).toEqual({ N: String(NOW_S) });
    await store.close();
  });

  it('lists in key order and finds by owner, by scanning or through an owner GSI', async () => {
    for (const [table, gsi] of [
      [tableName, false],
      [ownerIndexed, true],
    ] as const) {
      const store = storeOver(table, { gsi });
      const all = (await store.list('pat', { limit: 1000 })).records.map((r) => r.key);
      expect(all).toEqual([...all].sort());
      expect(all).toEqual(expect.arrayContaining([ids.alice, ids.revoked, ids.expired]));
      const alice = await store.findByIndex('pat', 'owner', 'alice@example.com', { limit: 1 });
      expect(alice.records).toHaveLength(1);
      const rest = await store.findByIndex('pat', 'owner', 'alice@example.com', {
        cursor: alice.cursor,
      });
      expect([...alice.records, ...rest.records].map((r) => r.key).sort()).toEqual(
        [ids.alice, ids.revoked].sort(),
      );
      const admins = await store.list('pat', {
        fields: [{ field: 'isAdmin', op: 'eq', value: true }],
      });
      expect(admins.records.map((r) => r.key)).toContain(ids.alice);
      await store.close();
    }
  });

  it('deletes, transacts and sweeps expired tokens in the seed table', async () => {
    const table = uniqueTableName('seed-pat-sweep');
    await createSeedAccessTokensTable(client, table);
    await seedItems(table);
    const store = storeOver(table);
    await store.migrate();
    const tx = await store.transact(
      [
        {
          type: 'update',
          ref: { collection: 'pat', key: ids.alice },
          mutation: { set: { lastUsedAt: NOW } },
        },
      ],
      NOW,
    );
    expect(tx.ok).toBe(true);
    expect((await raw(ids.alice, table))?.lastUsedAt).toEqual({ N: String(NOW_S) });
    expect(await store.sweep(NOW)).toBe(1);
    expect(await raw(ids.expired, table)).toBeUndefined();
    expect(await raw(ids.alice, table)).toBeDefined();
    const d = await store.delete({ collection: 'pat', key: ids.revoked });
    expect(d.ok).toBe(true);
    expect(await raw(ids.revoked, table)).toBeUndefined();
    await store.close();
  });

  it('refuses index values that contradict a mirrored field, and bad layouts', async () => {
    const store = storeOver(tableName);
    await expect(
      store.put(
        {
          collection: 'pat',
          key: id62(),
          data: { owner: 'x' },
          expiresAt: null,
          index: { owner: 'y' },
        },
        { mode: 'insert', now: NOW },
      ),
    ).rejects.toBeInstanceOf(InvalidInputError);
    expect(() => createAccessTokensSeedLayout({ tableName: 'x' })).toThrow(TypeError);
    expect(() =>
      createAccessTokensSeedLayout({ tableName: 'tbl', metaAttribute: 'tokenId' }),
    ).toThrow(TypeError);
    expect(() =>
      createAccessTokensSeedLayout({ tableName: 'tbl', indexes: { owner: { field: 'isAdmin' } } }),
    ).toThrow(TypeError);
    await store.close();
  });

  it('fails migrate() when the layout table is missing, and reports foreign items as StoreError', async () => {
    const missing = storeOver(uniqueTableName('nope'));
    await expect(missing.migrate()).rejects.toThrow(/does not exist/);
    const key = id62();
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { tokenId: { S: key }, tessera: { S: '{bad' } },
      }),
    );
    const store = storeOver(tableName);
    await expect(store.get({ collection: 'pat', key })).rejects.toBeInstanceOf(StoreError);
    await store.close();
  });

  it('runs with no generic table at all (tableName: null), for a facade over the seed table alone', async () => {
    const store = createDynamoStore({
      client,
      tableName: null,
      layouts: { pat: createAccessTokensSeedLayout({ tableName }) },
    });
    await store.migrate();
    expect((await store.get({ collection: 'pat', key: ids.alice }))?.data.owner).toBe(
      'alice@example.com',
    );
    await expect(store.get({ collection: 'other', key: 'k' })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    expect(await store.sweep(0)).toBe(0);
    expect(() => createDynamoStore({ client, tableName: null })).toThrow(TypeError);
    await store.close();
  });
});
