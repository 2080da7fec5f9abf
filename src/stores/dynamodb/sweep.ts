/**
 * `sweep` of the DynamoDB store: scan for expired items (DynamoDB's TTL does
 * the same work for free: sweeping exists for the contract, for tables whose
 * TTL is off, and for tests) and delete each with a condition that it is
 * still expired (generic table) or still exactly as read (a layout's table).
 * @module
 */
import { DeleteItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { Item } from './attribute-values.js';
import type { EngineContext } from './engine.js';
import { isConditionFailed } from './errors.js';
import { Expr } from './expressions.js';
import type { RecordCodec } from './item-codec.js';
import type { ItemLayout } from './layout.js';
import type { QueryOut } from './pages.js';
import { PARTITION_KEY, SORT_KEY } from './table-design.js';

/** Items evaluated at most by one `sweep` call (per table). */
export const SWEEP_SCAN_BUDGET = 20_000;

/** Where a sweep of one table left off (its next ExclusiveStartKey). */
export interface SweepCursor {
  start: Item | undefined;
}

/**
 * Sweep one table: scan for items expired at or before `cutoff` (ms), delete
 * each with a condition that it still is, up to `limit` deletions and
 * {@link SWEEP_SCAN_BUDGET} evaluated items. Resumes where the previous call
 * on this cursor stopped, wrapping around once.
 */
export async function sweepTable(
  ctx: EngineContext,
  codec: RecordCodec,
  cursor: SweepCursor,
  cutoff: number,
  limit: number,
  layout?: { layout: ItemLayout; collection: string },
): Promise<number> {
  let deleted = 0;
  let evaluated = 0;
  let wrapped = cursor.start === undefined;
  for (;;) {
    const e = new Expr();
    // The generic table filters on `x`; a layout's items are decoded and checked one by one.
    const filter =
      layout === undefined ? `${e.name('x')} <= ${e.value({ N: String(cutoff) })}` : undefined;
    const pageStart = cursor.start;
    const projection =
      layout === undefined
        ? [PARTITION_KEY, SORT_KEY, 'x'].map((a) => e.name(a)).join(', ')
        : undefined;
    const out = await ctx.send<QueryOut>(
      new ScanCommand({
        TableName: codec.tableName,
        ConsistentRead: true,
        Limit: 500,
        ExclusiveStartKey: pageStart,
        FilterExpression: filter,
        ProjectionExpression: projection,
        ...e.params(),
      }),
      { idempotent: true },
    );
    evaluated += out.ScannedCount ?? 0;
    const hits = (out.Items ?? []).filter((item) => {
      if (layout === undefined) return true;
      try {
        const r = codec.decode(item, layout.collection);
        return r.expiresAt !== null && r.expiresAt <= cutoff;
      } catch {
        // An item that is not a record of the layout (another writer's): not ours to collect.
        return false;
      }
    });
    for (let i = 0; i < hits.length && deleted < limit; ) {
      const chunk = hits.slice(i, i + Math.min(16, limit - deleted));
      i += chunk.length;
      const done = await Promise.all(
        chunk.map((item) => deleteIfExpired(ctx, codec, item, cutoff, layout)),
      );
      deleted += done.filter(Boolean).length;
    }
    if (deleted >= limit) {
      cursor.start = pageStart;
      return deleted;
    }
    cursor.start = out.LastEvaluatedKey;
    if (cursor.start === undefined) {
      if (wrapped) return deleted;
      wrapped = true;
    }
    if (evaluated >= SWEEP_SCAN_BUDGET) return deleted;
  }
}

async function deleteIfExpired(
  ctx: EngineContext,
  codec: RecordCodec,
  item: Item,
  cutoff: number,
  layout?: { layout: ItemLayout; collection: string },
): Promise<boolean> {
  const e = new Expr();
  let key: Item;
  let condition: string;
  if (layout === undefined) {
    key = { [PARTITION_KEY]: item[PARTITION_KEY] as never, [SORT_KEY]: item[SORT_KEY] as never };
    condition = `${e.name('x')} <= ${e.value({ N: String(cutoff) })}`;
  } else {
    key = layout.layout.itemKey(layout.layout.recordKey(item));
    condition = codec.pin(e, item);
  }
  try {
    await ctx.send(
      new DeleteItemCommand({
        TableName: codec.tableName,
        Key: key,
        ConditionExpression: condition,
        ...e.params(),
      }),
      // A copy sent again can only delete garbage (an item still expired at the cutoff, or
      // still exactly as read); after its first copy applied it finds nothing and is not counted.
      { idempotent: true },
    );
    return true;
  } catch (err) {
    if (isConditionFailed(err)) return false;
    throw err;
  }
}
