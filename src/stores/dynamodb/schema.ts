/**
 * `migrate()` of the DynamoDB store: create the generic table with its four
 * lookup GSIs (on-demand billing) when it is missing, wait until table and
 * indexes are ACTIVE, add an index that is missing, and enable TTL on `ttl`.
 * Idempotent and safe from several processes at once (the losers of a
 * CreateTable race wait for the winner's table). With `migrateMode: 'verify'`
 * it changes nothing: it checks that the table, its key and its indexes exist.
 * Layout tables are only checked (they belong to another package).
 *
 * TTL: `UpdateTimeToLive` is not implemented by every DynamoDB emulator
 * (dynalite 4 answers UnknownOperationException); that is tolerated, since TTL
 * only collects garbage. A table whose TTL is already enabled on another
 * attribute is left alone (DynamoDB allows one TTL attribute per table): then
 * run `sweep()` to collect expired records.
 * @module
 */

import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type TableDescription,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { StoreError, StoreUnavailableError } from '../../core/errors.js';
import type { EngineContext } from './engine.js';
import type { ItemLayout } from './layout.js';
import { INDEX_SLOT_ATTRIBUTES, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from './table-design.js';

/**
 * The CreateTable input of the generic table (what `migrate()` sends; the
 * `TesseraTable` construct creates the same keys and indexes).
 * @param tableName - the table
 * @param indexNames - the four lookup index names
 * @example `await client.send(new CreateTableCommand(tableDefinition('tessera', indexNames('gsi'))));`
 */
export function tableDefinition(
  tableName: string,
  indexNames: readonly string[],
): CreateTableCommandInput {
  const attr = (name: string): AttributeDefinition => ({ AttributeName: name, AttributeType: 'S' });
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [PARTITION_KEY, SORT_KEY, ...INDEX_SLOT_ATTRIBUTES].map(attr),
    KeySchema: [
      { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
      { AttributeName: SORT_KEY, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: INDEX_SLOT_ATTRIBUTES.map((slot, i) => ({
      IndexName: indexNames[i],
      KeySchema: [
        { AttributeName: slot, KeyType: 'HASH' },
        { AttributeName: SORT_KEY, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'KEYS_ONLY' },
    })),
  };
}

function errName(err: unknown): string {
  return (err as { name?: string } | null)?.name ?? '';
}

async function describe(ctx: EngineContext, tableName: string): Promise<TableDescription | null> {
  try {
    const out = await ctx.send<{ Table?: TableDescription }>(
      new DescribeTableCommand({ TableName: tableName }),
      { idempotent: true },
    );
    return out.Table ?? null;
  } catch (err) {
    if (errName(err) === 'ResourceNotFoundException') return null;
    throw err;
  }
}

function isActive(t: TableDescription): boolean {
  return (
    t.TableStatus === 'ACTIVE' &&
    (t.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === 'ACTIVE')
  );
}

async function waitActive(
  ctx: EngineContext,
  tableName: string,
  timeoutMs: number,
): Promise<TableDescription> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    const t = await describe(ctx, tableName);
    if (t !== null && isActive(t)) return t;
    if (Date.now() > deadline) {
      throw new StoreUnavailableError(
        `DynamoDB table ${tableName} did not become ACTIVE within ${timeoutMs} ms`,
      );
    }
    await sleep(Math.min(2000, 20 * 2 ** i));
  }
}

function checkKeySchema(t: TableDescription, expected: readonly string[], tableName: string): void {
  const keys = (t.KeySchema ?? [])
    .slice()
    .sort((a, b) => (a.KeyType === 'HASH' ? -1 : b.KeyType === 'HASH' ? 1 : 0))
    .map((k) => k.AttributeName);
  if (keys.join(',') !== expected.join(',')) {
    throw new StoreError(
      `DynamoDB table ${tableName} has key (${keys.join(', ')}), expected (${expected.join(', ')})`,
    );
  }
}

async function ensureTtl(ctx: EngineContext, tableName: string): Promise<void> {
  let status: { TimeToLiveStatus?: string; AttributeName?: string } | undefined;
  try {
    const out = await ctx.send<{
      TimeToLiveDescription?: { TimeToLiveStatus?: string; AttributeName?: string };
    }>(new DescribeTimeToLiveCommand({ TableName: tableName }), { idempotent: true });
    status = out.TimeToLiveDescription;
  } catch (err) {
    if (errName(err) === 'UnknownOperationException') return;
    throw err;
  }
  const s = status?.TimeToLiveStatus;
  if (s === 'ENABLED' || s === 'ENABLING') return;
  if (s === 'DISABLING') return; // cannot change now; a later migrate() will enable it
  try {
    await ctx.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      }),
    );
  } catch (err) {
    const name = errName(err);
    // Not implemented (dynalite), or enabled meanwhile by another process.
    if (name === 'UnknownOperationException') return;
    if (name === 'ValidationException' && /already enabled/i.test(String(err))) return;
    throw err;
  }
}

/** Options of {@link migrateSchema}. */
export interface MigrateOptions {
  /** The generic table, or null when the store has only layouts. */
  readonly tableName: string | null;
  readonly indexNames: readonly string[];
  readonly mode: 'create' | 'verify';
  readonly timeoutMs: number;
  readonly layouts: readonly ItemLayout[];
}

/**
 * Create or check the generic table, its indexes and TTL; check every layout table.
 * @throws StoreError for a table with another key schema, or a missing table in `verify` mode
 */
export async function migrateSchema(ctx: EngineContext, o: MigrateOptions): Promise<void> {
  if (o.tableName !== null) await migrateTable(ctx, { ...o, tableName: o.tableName });
  for (const layout of o.layouts) {
    if ((await describe(ctx, layout.tableName)) === null) {
      throw new StoreError(`DynamoDB table ${layout.tableName} (a layout's table) does not exist`);
    }
    const t = await waitActive(ctx, layout.tableName, o.timeoutMs);
    checkKeySchema(t, layout.keyAttributes, layout.tableName);
  }
}

async function migrateTable(
  ctx: EngineContext,
  o: MigrateOptions & { tableName: string },
): Promise<void> {
  const def = tableDefinition(o.tableName, o.indexNames);
  let table = await describe(ctx, o.tableName);
  if (table === null) {
    if (o.mode === 'verify') {
      throw new StoreError(`DynamoDB table ${o.tableName} does not exist (migrateMode: 'verify')`);
    }
    try {
      await ctx.send(new CreateTableCommand(def));
    } catch (err) {
      if (errName(err) !== 'ResourceInUseException') throw err;
    }
  }
  table = await waitActive(ctx, o.tableName, o.timeoutMs);
  checkKeySchema(table, [PARTITION_KEY, SORT_KEY], o.tableName);
  for (const gsi of def.GlobalSecondaryIndexes ?? []) {
    if ((table.GlobalSecondaryIndexes ?? []).some((g) => g.IndexName === gsi.IndexName)) continue;
    if (o.mode === 'verify') {
      throw new StoreError(`DynamoDB table ${o.tableName} lacks the index ${gsi.IndexName}`);
    }
    try {
      await ctx.send(
        new UpdateTableCommand({
          TableName: o.tableName,
          AttributeDefinitions: def.AttributeDefinitions,
          GlobalSecondaryIndexUpdates: [{ Create: gsi }],
        }),
      );
    } catch (err) {
      // Another process is adding it (or another index) right now.
      if (!['ResourceInUseException', 'LimitExceededException'].includes(errName(err))) throw err;
    }
    table = await waitActive(ctx, o.tableName, o.timeoutMs);
  }
  const missing = (def.GlobalSecondaryIndexes ?? []).filter(
    (gsi) => !(table?.GlobalSecondaryIndexes ?? []).some((g) => g.IndexName === gsi.IndexName),
  );
  if (missing.length > 0) {
    throw new StoreError(
      `DynamoDB table ${o.tableName} still lacks ${missing.map((g) => g.IndexName).join(', ')}: run migrate() again`,
    );
  }
  // 'verify' changes nothing: a table infrastructure code owns has TTL set there.
  if (o.mode === 'create') await ensureTtl(ctx, o.tableName);
}
