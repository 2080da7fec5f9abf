/**
 * The test emulation of TransactWriteItems in front of dynalite behaves as
 * DynamoDB documents it: all or nothing, isolated, with cancellation reasons
 * and ClientRequestToken idempotency.
 */
import {
  CreateTableCommand,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  sharedTestDynamo,
  startTestDynamo,
  stopSharedTestDynamo,
  uniqueTableName,
  waitForTable,
} from '../../support/dynalite.js';
import { CLIENT_TOKEN_WINDOW_MS, RwLock } from '../../support/dynamo-transact-emulation.js';

let table = '';
beforeAll(async () => {
  const dyn = await sharedTestDynamo();
  const client = dyn.client();
  table = uniqueTableName();
  await client.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    }),
  );
  await waitForTable(client, table);
  client.destroy();
});
afterAll(() => stopSharedTestDynamo());

const key = (id: string) => ({ id: { S: id } });

async function get(id: string) {
  const dyn = await sharedTestDynamo();
  const client = dyn.client();
  const out = await client.send(
    new GetItemCommand({ TableName: table, Key: key(id), ConsistentRead: true }),
  );
  client.destroy();
  return out.Item ?? null;
}

describe('TransactWriteItems emulation', () => {
  it('applies every item when every condition holds', async () => {
    const dyn = await sharedTestDynamo();
    const client = dyn.client();
    await client.send(
      new PutItemCommand({ TableName: table, Item: { ...key('c1'), n: { N: '1' } } }),
    );
    await client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Put: {
              TableName: table,
              Item: { ...key('a1'), v: { S: 'x' } },
              ConditionExpression: 'attribute_not_exists(id)',
            },
          },
          {
            Update: {
              TableName: table,
              Key: key('c1'),
              UpdateExpression: 'SET n = n + :one',
              ConditionExpression: 'n = :one',
              ExpressionAttributeValues: { ':one': { N: '1' } },
            },
          },
          {
            ConditionCheck: {
              TableName: table,
              Key: key('none1'),
              ConditionExpression: 'attribute_not_exists(id)',
            },
          },
        ],
      }),
    );
    expect(await get('a1')).toEqual({ ...key('a1'), v: { S: 'x' } });
    expect((await get('c1'))?.n).toEqual({ N: '2' });
    client.destroy();
  });

  it('applies nothing when one condition fails, and names each item in CancellationReasons', async () => {
    const dyn = await sharedTestDynamo();
    const client = dyn.client();
    await client.send(
      new PutItemCommand({ TableName: table, Item: { ...key('b2'), n: { N: '5' } } }),
    );
    const err = await client
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: table, Item: { ...key('a2'), v: { S: 'x' } } } },
            {
              Delete: {
                TableName: table,
                Key: key('b2'),
                ConditionExpression: 'n = :n',
                ExpressionAttributeValues: { ':n': { N: '9' } },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            {
              ConditionCheck: {
                TableName: table,
                Key: key('b2x'),
                ConditionExpression: 'attribute_exists(id)',
              },
            },
            { Put: { TableName: table, Item: { ...key('c2') } } },
          ],
        }),
      )
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'TransactionCanceledException' });
    expect((err as { CancellationReasons: unknown[] }).CancellationReasons).toEqual([
      { Code: 'None' },
      {
        Code: 'ConditionalCheckFailed',
        Message: 'The conditional request failed',
        Item: { ...key('b2'), n: { N: '5' } },
      },
      { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' },
      { Code: 'None' },
    ]);
    expect(await get('a2')).toBeNull();
    expect(await get('c2')).toBeNull();
    expect((await get('b2'))?.n).toEqual({ N: '5' });
    client.destroy();
  });

  it('refuses two operations on one item, as DynamoDB does', async () => {
    const dyn = await sharedTestDynamo();
    const client = dyn.client();
    const err = await client
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: table, Item: key('d3') } },
            { Delete: { TableName: table, Key: key('d3') } },
          ],
        }),
      )
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ValidationException' });
    expect(await get('d3')).toBeNull();
    client.destroy();
  });

  it('never lets a concurrent reader see a transaction that is later rolled back', async () => {
    const dyn = await sharedTestDynamo();
    const client = dyn.client();
    await client.send(
      new PutItemCommand({ TableName: table, Item: { ...key('guard4'), n: { N: '1' } } }),
    );
    const puts = Array.from({ length: 20 }, (_, i) => ({
      Put: { TableName: table, Item: { ...key(`e4-${i}`) } },
    }));
    const tx = client
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [
            ...puts,
            {
              ConditionCheck: {
                TableName: table,
                Key: key('guard4'),
                ConditionExpression: 'attribute_not_exists(id)',
              },
            },
          ],
        }),
      )
      .catch((e: unknown) => e);
    let settled = false;
    void tx.then(() => {
      settled = true;
    });
    const seen: unknown[] = [];
    for (let round = 0; !settled && round < 500; round++) {
      seen.push(...(await Promise.all([0, 7, 13, 19].map((i) => get(`e4-${i}`)))));
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(await tx).toMatchObject({ name: 'TransactionCanceledException' });
    expect(seen.every((s) => s === null)).toBe(true);
    client.destroy();
  });
});

describe('ClientRequestToken', () => {
  const bump = (id: string, token: string, by = '1') =>
    new TransactWriteItemsCommand({
      TransactItems: [
        {
          Update: {
            TableName: table,
            Key: key(id),
            UpdateExpression: 'SET n = n + :by',
            ConditionExpression: 'n < :ten',
            ExpressionAttributeValues: { ':by': { N: by }, ':ten': { N: '10' } },
          },
        },
      ],
      ClientRequestToken: token,
    });

  it('answers a copy of a committed request with success and applies nothing; other parameters are refused', async () => {
    const dyn = await sharedTestDynamo();
    const client = dyn.client();
    await client.send(
      new PutItemCommand({ TableName: table, Item: { ...key('t1'), n: { N: '0' } } }),
    );
    const replayed = dyn.stats.replayed;
    await client.send(bump('t1', 'token-t1'));
    expect(await client.send(bump('t1', 'token-t1'))).toMatchObject({});
    expect((await get('t1'))?.n).toEqual({ N: '1' });
    expect(dyn.stats.replayed).toBe(replayed + 1);
    const err = await client.send(bump('t1', 'token-t1', '2')).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'IdempotentParameterMismatchException' });
    expect((await get('t1'))?.n).toEqual({ N: '1' });
    client.destroy();
  });

  it('forgets a token ten minutes after its request completed, and never keeps a cancelled one', async () => {
    let now = 1_000_000;
    const own = await startTestDynamo({ now: () => now });
    const client = own.client();
    const t = 'tokens';
    await client.send(
      new CreateTableCommand({
        TableName: t,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      }),
    );
    await waitForTable(client, t);
    const n = async () =>
      (await client.send(new GetItemCommand({ TableName: t, Key: key('x'), ConsistentRead: true })))
        .Item?.n?.N;
    const bumpX = (token: string) =>
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Update: {
              TableName: t,
              Key: key('x'),
              UpdateExpression: 'SET n = n + :one',
              ConditionExpression: 'attribute_exists(n)',
              ExpressionAttributeValues: { ':one': { N: '1' } },
            },
          },
        ],
        ClientRequestToken: token,
      });
    // Cancelled (no item yet): the token is not kept, so its copy runs again.
    await expect(client.send(bumpX('a'))).rejects.toMatchObject({
      name: 'TransactionCanceledException',
    });
    await client.send(new PutItemCommand({ TableName: t, Item: { ...key('x'), n: { N: '0' } } }));
    await client.send(bumpX('a'));
    expect(await n()).toBe('1');
    now += CLIENT_TOKEN_WINDOW_MS - 1;
    await client.send(bumpX('a'));
    expect(await n()).toBe('1');
    now += 1;
    await client.send(bumpX('a'));
    expect(await n()).toBe('2');
    expect(own.stats).toMatchObject({ committed: 2, cancelled: 1, replayed: 1 });
    client.destroy();
    await own.close();
  });
});

describe('RwLock', () => {
  it('runs readers together, a writer alone, and keeps later readers behind a waiting writer', async () => {
    const lock = new RwLock();
    const log: string[] = [];
    const r1 = await lock.acquire(false);
    const r2 = await lock.acquire(false);
    const w = lock.acquire(true).then((release) => {
      log.push('w');
      return release;
    });
    const r3 = lock.acquire(false).then((release) => {
      log.push('r3');
      return release;
    });
    await Promise.resolve();
    expect(log).toEqual([]);
    r1();
    r2();
    (await w)();
    (await r3)();
    expect(log).toEqual(['w', 'r3']);
  });
});
