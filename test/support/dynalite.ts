/**
 * dynalite 4 for the DynamoDB tests: started in the test process on a free
 * loopback port, behind the `TransactWriteItems` emulation (see
 * `dynamo-transact-emulation.ts`), which every client (including race workers
 * in other OS processes) talks to.
 *
 * Known gaps of dynalite 4.0, measured: no `TransactWriteItems` (emulated,
 * `ClientRequestToken` idempotency included), no `UpdateTimeToLive` (the
 * store tolerates it), no `ReturnValuesOnConditionCheckFailure` (ignored; the
 * store then reads the item), and a table item count that is not live (the
 * store never uses it).
 * It is also slow (hundreds of operations per second): keep test data small.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  startTransactEmulation,
  type TransactEmulation,
  type TransactEmulationOptions,
} from './dynamo-transact-emulation.js';

// The SDK warns once per process that Node 20 support ends in 2027; tests need no reminder.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

// dynalite ships no types: load it as the CommonJS function it is.
const dynalite = createRequire(import.meta.url)('dynalite') as (options: {
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}) => Server;

/** A running dynalite with the emulation in front. */
export interface TestDynamo extends TransactEmulation {
  /** A new SDK client for this endpoint (dummy credentials; the caller destroys it). */
  client(): DynamoDBClient;
}

/** Credentials dynalite accepts (it checks only their presence). */
export const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

/** An SDK client for a test endpoint. */
export function testClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: TEST_CREDENTIALS,
    maxAttempts: 1,
  });
}

/**
 * Start dynalite (in memory, tables ACTIVE at once) and the emulation in front
 * of it (`options.now`: the clock of its `ClientRequestToken` window).
 */
export async function startTestDynamo(options: TransactEmulationOptions = {}): Promise<TestDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const handler = server.listeners('request')[0] as (
    req: IncomingMessage,
    res: ServerResponse,
  ) => void;
  const emulation = await startTransactEmulation(handler, options);
  return {
    ...emulation,
    stats: emulation.stats,
    client: () => testClient(emulation.endpoint),
  };
}

let shared: Promise<TestDynamo> | undefined;

/** One dynalite per test file (started on first use). */
export function sharedTestDynamo(): Promise<TestDynamo> {
  shared ??= startTestDynamo();
  return shared;
}

/** Stop the shared dynalite (call from `afterAll`). */
export async function stopSharedTestDynamo(): Promise<void> {
  if (shared === undefined) return;
  const d = await shared;
  shared = undefined;
  await d.close();
}

/** A fresh table name. */
export function uniqueTableName(prefix = 'tessera'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

/** Wait until a table just created is ACTIVE (dynalite flips it on the next tick). */
export async function waitForTable(client: DynamoDBClient, tableName: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const t = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (t.Table?.TableStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}

/**
 * Create a table in the @access-tokens/core layout (partition key `tokenId`),
 * as that package's users create it, optionally with the README's `owner-index`.
 */
export async function createSeedAccessTokensTable(
  client: DynamoDBClient,
  tableName: string,
  ownerIndex = false,
): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'tokenId', KeyType: 'HASH' }],
      AttributeDefinitions: [
        { AttributeName: 'tokenId', AttributeType: 'S' },
        ...(ownerIndex ? [{ AttributeName: 'owner', AttributeType: 'S' as const }] : []),
      ],
      ...(ownerIndex
        ? {
            GlobalSecondaryIndexes: [
              {
                IndexName: 'owner-index',
                KeySchema: [{ AttributeName: 'owner', KeyType: 'HASH' }],
                Projection: { ProjectionType: 'ALL' },
              },
            ],
          }
        : {}),
    }),
  );
  await waitForTable(client, tableName);
}
