/**
 * Consistent batch reads: BatchGetItem in chunks of 100 distinct keys, across
 * tables, re-requesting unprocessed keys with backoff.
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchGetItemCommand } from '@aws-sdk/client-dynamodb';
import { StoreUnavailableError } from '../../core/errors.js';
import type { RecordRef } from '../contract.js';
import type { Item } from './attribute-values.js';
import type { EngineContext } from './engine.js';
import { backoffMs } from './errors.js';
import type { RecordCodec } from './item-codec.js';

/** Keys per BatchGetItem request (DynamoDB's limit). */
const BATCH = 100;
/** Rounds of unprocessed keys before giving up. */
const MAX_UNPROCESSED_ROUNDS = 10;

function keyId(table: string, key: Item): string {
  return `${table}\u0000${JSON.stringify(Object.entries(key).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
}

/**
 * Read items consistently, in the order of `refs` (null for missing ones).
 * @throws StoreUnavailableError when DynamoDB keeps returning unprocessed keys
 */
export async function readItems(
  ctx: EngineContext,
  codecFor: (collection: string) => RecordCodec,
  refs: readonly RecordRef[],
): Promise<Array<Item | null>> {
  const wanted = new Map<string, { table: string; key: Item; keyAttrs: string[] }>();
  const order: string[] = [];
  for (const r of refs) {
    const codec = codecFor(r.collection);
    const key = codec.key(r.collection, r.key);
    const kid = keyId(codec.tableName, key);
    order.push(kid);
    if (!wanted.has(kid))
      wanted.set(kid, { table: codec.tableName, key, keyAttrs: Object.keys(key) });
  }
  const found = new Map<string, Item>();
  const all = [...wanted.values()];
  for (let start = 0; start < all.length; start += BATCH) {
    let pending: Record<string, { Keys: Item[]; ConsistentRead: true }> = {};
    for (const w of all.slice(start, start + BATCH)) {
      pending[w.table] ??= { Keys: [], ConsistentRead: true };
      pending[w.table]?.Keys.push(w.key);
    }
    for (let round = 0; Object.keys(pending).length > 0; round++) {
      if (round >= MAX_UNPROCESSED_ROUNDS) {
        throw new StoreUnavailableError('DynamoDB kept leaving keys unprocessed in BatchGetItem');
      }
      if (round > 0) await sleep(backoffMs(round, 25, 2000));
      const out = await ctx.send<{
        Responses?: Record<string, Item[]>;
        UnprocessedKeys?: Record<string, { Keys?: Item[] }>;
      }>(new BatchGetItemCommand({ RequestItems: pending }), { idempotent: true });
      for (const [table, items] of Object.entries(out.Responses ?? {})) {
        const attrs = all.find((w) => w.table === table)?.keyAttrs ?? [];
        for (const item of items) {
          const key = Object.fromEntries(attrs.map((a) => [a, item[a]])) as Item;
          found.set(keyId(table, key), item);
        }
      }
      const next: typeof pending = {};
      for (const [table, u] of Object.entries(out.UnprocessedKeys ?? {})) {
        if (u.Keys !== undefined && u.Keys.length > 0) {
          next[table] = { Keys: u.Keys, ConsistentRead: true };
        }
      }
      pending = next;
    }
  }
  return order.map((kid) => found.get(kid) ?? null);
}
