/**
 * Row 4 on PostgreSQL and DynamoDB: action-token `use()` against the
 * backend's raw ceiling, measured in the same run with the same concurrency
 * (16 in flight, one token or row per worker, no hot-key contention):
 * - PostgreSQL: a prepared `UPDATE ... SET n = n - 1 WHERE id = $1 AND n > 0
 *   RETURNING n` on a plain integer column, on the same pool;
 * - DynamoDB (dynalite 4, in process, behind the test transaction emulation):
 *   a raw conditional UpdateItem (`SET n = n - 1` if `n > 0`), on the same client,
 *   on a table of the store's own design (pk/sk and four GSIs).
 */
import { randomBytes } from 'node:crypto';
import {
  CreateTableCommand,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import pg from 'pg';
import { createActionTokens } from '../../src/action-tokens/index.js';
import type { Store } from '../../src/stores/contract.js';
import { createDynamoStore, tableDefinition } from '../../src/stores/dynamodb/index.js';
import { createPostgresStore } from '../../src/stores/postgres/index.js';
import { testKeyring } from '../../src/testing/index.js';
import { startTestDynamo, type TestDynamo, waitForTable } from '../../test/support/dynalite.js';
import { type Entry, type Row, unavailable } from '../harness.js';
import { PG_URL, postgresReachable } from './backends.js';
import { patVerifyOp } from './pat-verify-op.js';

const WORKERS = 16;

/** `use()` op over one token per worker in `store`. */
async function useOp(store: Store): Promise<() => Promise<void>> {
  const tokens = createActionTokens({ store, keyring: testKeyring() });
  const values: string[] = [];
  for (let w = 0; w < WORKERS; w++) {
    const { value } = await tokens.create({
      owner: `bench-${w}@example.com`,
      action: 'bench',
      remainingUses: 1_000_000,
      ttlSeconds: 86_400,
    });
    values.push(value);
  }
  let i = 0;
  return async () => {
    const w = i++ % WORKERS;
    const r = await tokens.tryUse({
      owner: `bench-${w}@example.com`,
      action: 'bench',
      value: values[w]!,
      drainWhenValid: false,
    });
    if (!r.valid) throw new Error(`use failed: ${r.reason}`);
  };
}

/** Row 4 (and PAT verify), PostgreSQL (skipped when PostgreSQL is not reachable). */
export async function postgresRows(): Promise<Entry[]> {
  const metas = [
    { id: 'use-postgres', title: 'Action token use(), PostgreSQL store' },
    { id: 'pat-verify-postgres', title: 'PAT verify, PostgreSQL store' },
  ];
  if (!(await postgresReachable())) return unavailable(`PostgreSQL at ${PG_URL}`, metas);
  const row = (
    meta: (typeof metas)[number],
    makeSubject: (store: Store) => Promise<() => Promise<unknown>>,
    name: string,
  ): Row => {
    const schema = `tessera_bench_${randomBytes(3).toString('hex')}`;
    let pool: pg.Pool | undefined;
    let store: Store | undefined;
    let subject: () => Promise<unknown> = async () => undefined;
    let raw: () => Promise<unknown> = async () => undefined;
    return {
      ...meta,
      subject: { name, op: () => subject() },
      baseline: { name: 'raw UPDATE ... RETURNING', op: () => raw() },
      concurrency: WORKERS,
      target: meta.id === 'use-postgres' ? 0.7 : undefined,
      setup: async () => {
        pool = new pg.Pool({ connectionString: PG_URL, max: 8 });
        pool.on('error', () => {});
        store = createPostgresStore({ pool }, { schema });
        await store.migrate();
        await pool.query(
          `CREATE TABLE "${schema}".ceiling (id integer PRIMARY KEY, n bigint NOT NULL)`,
        );
        await pool.query(
          `INSERT INTO "${schema}".ceiling SELECT i, 1000000000 FROM generate_series(0, $1::int - 1) i`,
          [WORKERS],
        );
        const text = `UPDATE "${schema}".ceiling SET n = n - 1 WHERE id = $1 AND n > 0 RETURNING n`;
        const p = pool;
        let j = 0;
        raw = () => p.query({ name: `bench_raw_${schema}`, text, values: [j++ % WORKERS] });
        subject = await makeSubject(store);
      },
      teardown: async () => {
        await store?.close();
        await pool?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await pool?.end();
      },
    };
  };
  return [
    row(metas[0]!, useOp, 'Tessera use()'),
    row(metas[1]!, (store) => patVerifyOp(store, WORKERS), 'Tessera PAT verify() (no cache)'),
  ];
}

/** Row 4, DynamoDB on dynalite (started in this process). */
export async function dynamoRows(): Promise<Entry[]> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  let dynamo: TestDynamo | undefined;
  let client: DynamoDBClient | undefined;
  let store: Store | undefined;
  let subject: () => Promise<unknown> = async () => undefined;
  let raw: () => Promise<unknown> = async () => undefined;
  const row: Row = {
    id: 'use-dynamodb',
    title: 'Action token use(), DynamoDB store (dynalite)',
    subject: { name: 'Tessera use()', op: () => subject() },
    baseline: { name: 'raw conditional UpdateItem', op: () => raw() },
    concurrency: WORKERS,
    target: 0.7,
    setup: async () => {
      dynamo = await startTestDynamo();
      client = dynamo.client();
      const c = client;
      const tableName = `tessera-bench-${randomBytes(4).toString('hex')}`;
      const rawTable = `${tableName}-raw`;
      store = createDynamoStore({ client: c, tableName });
      await store.migrate();
      // A table of the store's own design (pk/sk, four KEYS_ONLY GSIs), so the ceiling
      // pays the same per-table work (measured: the GSIs cost dynalite nothing here).
      await c.send(
        new CreateTableCommand(tableDefinition(rawTable, ['gsi1', 'gsi2', 'gsi3', 'gsi4'])),
      );
      await waitForTable(c, rawTable);
      for (let w = 0; w < WORKERS; w++) {
        await c.send(
          new PutItemCommand({
            TableName: rawTable,
            Item: { pk: { S: `k${w}` }, sk: { S: 'k' }, n: { N: '1000000000' } },
          }),
        );
      }
      let j = 0;
      raw = () =>
        c.send(
          new UpdateItemCommand({
            TableName: rawTable,
            Key: { pk: { S: `k${j++ % WORKERS}` }, sk: { S: 'k' } },
            UpdateExpression: 'SET n = n - :one',
            ConditionExpression: 'n > :zero',
            ExpressionAttributeValues: { ':one': { N: '1' }, ':zero': { N: '0' } },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
      subject = await useOp(store);
    },
    teardown: async () => {
      await store?.close();
      client?.destroy();
      await dynamo?.close();
    },
  };
  return [row];
}
