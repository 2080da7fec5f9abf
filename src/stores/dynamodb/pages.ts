/**
 * `list` and `findByIndex` of the DynamoDB store on the generic table.
 *
 * - `list` runs a consistent Query on each shard of the collection (its
 *   partition key values), in sort-key order, with the field conditions
 *   compiled to a FilterExpression (and checked again with the reference
 *   semantics), and merges the shards in key order.
 * - `findByIndex` queries the four sparse index GSIs in parallel (an index
 *   name can sit in any slot), merges them in key order, and confirms every
 *   hit with a consistent read of the base item: a stale GSI entry never
 *   shows up. A record that only just got its index value may be missing
 *   from a lookup for the GSI's propagation delay (usually under a second).
 * @module
 */
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import type { FieldCondition, ListOptions, Page, StoredRecord } from '../contract.js';
import { decodeCursor, encodeCursor, matchesField } from '../shared/semantics.js';
import { checkFieldConditions, checkLimit } from '../shared/validate.js';
import type { Item } from './attribute-values.js';
import type { EngineContext } from './engine.js';
import { and, Expr, fieldsCondition } from './expressions.js';
import type { RecordCodec } from './item-codec.js';
import { readItems } from './reads.js';
import {
  COLLECTION_SHARDS,
  collectionPartitionKeys,
  INDEX_SLOT_ATTRIBUTES,
  PARTITION_KEY,
  SORT_KEY,
} from './table-design.js';

/** Items evaluated at most by one filtered page before it returns a partial page. */
export const SCAN_BUDGET = 5000;

export type QueryOut = { Items?: Item[]; LastEvaluatedKey?: Item; ScannedCount?: number };

export function matchesAll(r: StoredRecord, fields: readonly FieldCondition[]): boolean {
  for (const c of fields) if (!matchesField(r.data, c)) return false;
  return true;
}

/** Order of DynamoDB's string sort keys: UTF-8 bytes. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** One shard of a collection while a `list` page merges them. */
interface ShardScan {
  readonly pk: string;
  /** Records read and not yet merged, in key order. */
  buffered: StoredRecord[];
  /** Where the next Query starts (undefined: after the page's cursor). */
  start: Item | undefined;
  /** The last key this shard has evaluated (null: none yet). */
  evaluated: string | null;
  done: boolean;
}

/**
 * `list` on the generic table: a consistent Query per shard of the
 * collection (see `table-design.ts`), merged in key order. A record is taken
 * only once every shard has read past it or is exhausted, so pages are in
 * exact key order whatever the shards return.
 */
export async function listTable(
  ctx: EngineContext,
  codec: RecordCodec,
  collection: string,
  options: ListOptions,
): Promise<Page> {
  const limit = checkLimit(options.limit);
  checkFieldConditions(options.fields);
  const after = decodeCursor(options.cursor);
  if (after !== null) codec.key(collection, after);
  const fields = options.fields ?? [];
  // Enough per Query that a page usually takes one round, few enough not to read 16 pages.
  const batch = Math.min(1000, Math.max(10, Math.ceil((2 * (limit + 1)) / COLLECTION_SHARDS)));
  const shards: ShardScan[] = collectionPartitionKeys(collection).map((pk) => ({
    pk,
    buffered: [],
    start: undefined,
    evaluated: after,
    done: false,
  }));
  let scanned = 0;

  const fetch = async (shard: ShardScan): Promise<void> => {
    const e = new Expr();
    const keyCondition = and([
      `${e.name(PARTITION_KEY)} = ${e.value({ S: shard.pk })}`,
      after === null ? undefined : `${e.name(SORT_KEY)} > ${e.value({ S: after })}`,
    ]);
    const filter =
      fields.length === 0
        ? undefined
        : `attribute_exists(${e.name('dj')}) OR (${fieldsCondition(e, fields)})`;
    const out = await ctx.send<QueryOut>(
      new QueryCommand({
        TableName: codec.tableName,
        KeyConditionExpression: keyCondition,
        FilterExpression: filter,
        ConsistentRead: true,
        Limit: batch,
        ExclusiveStartKey: shard.start,
        ...e.params(),
      }),
      { idempotent: true },
    );
    for (const item of out.Items ?? []) {
      const r = codec.decode(item, collection);
      if (matchesAll(r, fields)) shard.buffered.push(r);
    }
    scanned += out.ScannedCount ?? out.Items?.length ?? 0;
    const last = out.LastEvaluatedKey;
    if (last === undefined) shard.done = true;
    else {
      shard.start = last;
      shard.evaluated = codec.keyOf(last);
    }
  };

  const records: StoredRecord[] = [];
  for (;;) {
    // Read on wherever the merge cannot decide yet: a shard with nothing buffered
    // that has not read past the smallest buffered key.
    let head: StoredRecord | undefined;
    for (const s of shards) {
      const r = s.buffered[0];
      if (r !== undefined && (head === undefined || compareUtf8(r.key, head.key) < 0)) head = r;
    }
    const behind = shards.filter(
      (s) =>
        !s.done &&
        s.buffered.length === 0 &&
        (head === undefined || s.evaluated === null || compareUtf8(s.evaluated, head.key) < 0),
    );
    if (behind.length > 0) {
      if (scanned >= SCAN_BUDGET) {
        // A partial page, cut where every shard is done: after the last record
        // taken, or (none taken) the least key a lagging shard has read up to.
        if (records.length > 0) {
          return { records, cursor: encodeCursor((records.at(-1) as StoredRecord).key) };
        }
        const read = behind.map((b) => b.evaluated);
        if (!read.includes(null)) {
          const least = (read as string[]).reduce((a, b) => (compareUtf8(a, b) <= 0 ? a : b));
          return { records, cursor: encodeCursor(least) };
        }
      }
      await Promise.all(behind.map(fetch));
      continue;
    }
    if (head === undefined) return { records, cursor: null };
    for (const s of shards) if (s.buffered[0] === head) s.buffered.shift();
    records.push(head);
    if (records.length > limit) {
      return {
        records: records.slice(0, limit),
        cursor: encodeCursor((records[limit - 1] as StoredRecord).key),
      };
    }
  }
}

/** `findByIndex` on the generic table. */
export async function findInTable(
  ctx: EngineContext,
  codec: RecordCodec,
  indexNames: readonly string[],
  collection: string,
  name: string,
  value: string,
  options: ListOptions,
): Promise<Page> {
  const limit = checkLimit(options.limit);
  checkFieldConditions(options.fields);
  let after = decodeCursor(options.cursor);
  const fields = options.fields ?? [];
  const entry = `${collection}#${name}#${value}`;
  const batch = Math.min(1000, Math.max(limit + 1, 25));
  const records: StoredRecord[] = [];
  let scanned = 0;
  for (;;) {
    const pages = await Promise.all(
      INDEX_SLOT_ATTRIBUTES.map(async (slot, i) => {
        const e = new Expr();
        const out = await ctx.send<QueryOut>(
          new QueryCommand({
            TableName: codec.tableName,
            IndexName: indexNames[i],
            KeyConditionExpression: and([
              `${e.name(slot)} = ${e.value({ S: entry })}`,
              after === null ? undefined : `${e.name(SORT_KEY)} > ${e.value({ S: after })}`,
            ]),
            Limit: batch,
            ...e.params(),
          }),
          { idempotent: true },
        );
        const keys = (out.Items ?? []).map((it) => it[SORT_KEY]?.S ?? '');
        return { keys, more: out.LastEvaluatedKey !== undefined };
      }),
    );
    // Everything up to the smallest last key of a slot with more is complete.
    let boundary: string | null = null;
    for (const p of pages) {
      const last = p.keys[p.keys.length - 1];
      if (p.more && last !== undefined && (boundary === null || compareUtf8(last, boundary) < 0)) {
        boundary = last;
      }
    }
    const candidates = [...new Set(pages.flatMap((p) => p.keys))]
      .filter((k) => boundary === null || compareUtf8(k, boundary) <= 0)
      .sort(compareUtf8);
    const items = await readItems(
      ctx,
      () => codec,
      candidates.map((key) => ({ collection, key })),
    );
    for (const item of items) {
      if (item === null) continue;
      const r = codec.decode(item, collection);
      if (r.index[name] !== value || !matchesAll(r, fields)) continue;
      records.push(r);
      if (records.length > limit) {
        return {
          records: records.slice(0, limit),
          cursor: encodeCursor((records[limit - 1] as StoredRecord).key),
        };
      }
    }
    scanned += candidates.length;
    if (boundary === null) return { records, cursor: null };
    if (scanned >= SCAN_BUDGET) return { records, cursor: encodeCursor(boundary) };
    after = boundary;
  }
}
