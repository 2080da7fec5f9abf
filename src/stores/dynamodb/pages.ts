/**
 * `list` and `findByIndex` of the DynamoDB store on the generic table.
 *
 * - `list` is a consistent Query of the collection's partition key, in
 *   sort-key order, with the field conditions compiled to a FilterExpression
 *   (and checked again with the reference semantics).
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
import { INDEX_SLOT_ATTRIBUTES, PARTITION_KEY, SORT_KEY } from './table-design.js';

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

/** `list` on the generic table. */
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
  const records: StoredRecord[] = [];
  let scanned = 0;
  let start: Item | undefined;
  for (;;) {
    const e = new Expr();
    const keyCondition = and([
      `${e.name(PARTITION_KEY)} = ${e.value({ S: collection })}`,
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
        Limit: fields.length === 0 ? limit + 1 - records.length : Math.max(limit + 1, 100),
        ExclusiveStartKey: start,
        ...e.params(),
      }),
      { idempotent: true },
    );
    for (const item of out.Items ?? []) {
      const r = codec.decode(item, collection);
      if (matchesAll(r, fields)) records.push(r);
    }
    scanned += out.ScannedCount ?? out.Items?.length ?? 0;
    if (records.length > limit) {
      return {
        records: records.slice(0, limit),
        cursor: encodeCursor((records[limit - 1] as StoredRecord).key),
      };
    }
    const last = out.LastEvaluatedKey;
    if (last === undefined) return { records, cursor: null };
    if (scanned >= SCAN_BUDGET) return { records, cursor: encodeCursor(codec.keyOf(last)) };
    start = last;
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
