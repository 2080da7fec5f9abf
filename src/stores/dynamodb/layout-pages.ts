/**
 * `list` and `findByIndex` on a collection with an existing-table layout:
 * such tables are small (tokens, not events), so a page scans the table
 * (consistently), or queries the GSI the layout names and confirms every hit
 * against the base item, then sorts and filters in memory with the reference
 * semantics.
 * @module
 */
import { QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { StoreError } from '../../core/errors.js';
import type { ListOptions, Page, StoredRecord } from '../contract.js';
import { compareKeys, decodeCursor, encodeCursor } from '../shared/semantics.js';
import { checkFieldConditions, checkLimit } from '../shared/validate.js';
import type { Item } from './attribute-values.js';
import type { EngineContext } from './engine.js';
import { Expr } from './expressions.js';
import type { RecordCodec } from './item-codec.js';
import type { ItemLayout } from './layout.js';
import { matchesAll, type QueryOut } from './pages.js';
import { readItems } from './reads.js';

/** Largest existing-layout table `list` and scanned lookups read into memory. */
export const MAX_LAYOUT_SCAN = 100_000;

/** Every record of an existing-layout table (consistent Scan, bounded). */
async function scanLayout(
  ctx: EngineContext,
  codec: RecordCodec,
  collection: string,
  filter?: { attribute: string; value: string },
): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  let start: Item | undefined;
  let scanned = 0;
  do {
    const e = new Expr();
    const page = await ctx.send<QueryOut>(
      new ScanCommand({
        TableName: codec.tableName,
        ConsistentRead: true,
        ExclusiveStartKey: start,
        FilterExpression:
          filter === undefined
            ? undefined
            : `${e.name(filter.attribute)} = ${e.value({ S: filter.value })}`,
        ...e.params(),
      }),
      { idempotent: true },
    );
    for (const item of page.Items ?? []) out.push(codec.decode(item, collection));
    scanned += page.ScannedCount ?? 0;
    if (scanned > MAX_LAYOUT_SCAN) {
      throw new StoreError(
        `table ${codec.tableName} has more than ${MAX_LAYOUT_SCAN} items: too many to list by scanning`,
      );
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return out;
}

function pageOf(
  records: StoredRecord[],
  options: ListOptions,
  confirm: (r: StoredRecord) => boolean,
): Page {
  const limit = checkLimit(options.limit);
  checkFieldConditions(options.fields);
  const after = decodeCursor(options.cursor);
  const fields = options.fields ?? [];
  const sorted = records
    .filter((r) => (after === null || compareKeys(r.key, after) > 0) && confirm(r))
    .filter((r) => matchesAll(r, fields))
    .sort((a, b) => compareKeys(a.key, b.key));
  if (sorted.length <= limit) return { records: sorted, cursor: null };
  const page = sorted.slice(0, limit);
  return { records: page, cursor: encodeCursor((page[limit - 1] as StoredRecord).key) };
}

/** `list` on an existing-layout table. */
export async function listLayout(
  ctx: EngineContext,
  codec: RecordCodec,
  collection: string,
  options: ListOptions,
): Promise<Page> {
  checkLimit(options.limit);
  checkFieldConditions(options.fields);
  decodeCursor(options.cursor);
  return pageOf(await scanLayout(ctx, codec, collection), options, () => true);
}

/** `findByIndex` on an existing-layout table. */
export async function findInLayout(
  ctx: EngineContext,
  codec: RecordCodec,
  layout: ItemLayout,
  collection: string,
  name: string,
  value: string,
  options: ListOptions,
): Promise<Page> {
  checkLimit(options.limit);
  checkFieldConditions(options.fields);
  decodeCursor(options.cursor);
  const confirm = (r: StoredRecord) => r.index[name] === value;
  const gsi = layout.indexQuery?.(name);
  if (gsi === undefined) {
    return pageOf(await scanLayout(ctx, codec, collection), options, confirm);
  }
  const keys: string[] = [];
  let start: Item | undefined;
  do {
    const e = new Expr();
    const out = await ctx.send<QueryOut>(
      new QueryCommand({
        TableName: codec.tableName,
        IndexName: gsi.indexName,
        KeyConditionExpression: `${e.name(gsi.attribute)} = ${e.value({ S: value })}`,
        ExclusiveStartKey: start,
        ...e.params(),
      }),
      { idempotent: true },
    );
    for (const item of out.Items ?? []) keys.push(codec.keyOf(item));
    if (keys.length > MAX_LAYOUT_SCAN) {
      throw new StoreError(`index ${gsi.indexName} returned too many items to page in memory`);
    }
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  const items = await readItems(
    ctx,
    () => codec,
    keys.map((key) => ({ collection, key })),
  );
  const records = items
    .filter((i): i is Item => i !== null)
    .map((i) => codec.decode(i, collection));
  return pageOf(records, options, confirm);
}
