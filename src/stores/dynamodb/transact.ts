/**
 * `transact` of the DynamoDB store, over `TransactWriteItems`.
 *
 * 1. Read every addressed item with one consistent BatchGetItem.
 * 2. Run the reference engine (`syncTransact`) on those states: it validates,
 *    evaluates every condition and computes every resulting record.
 * 3. If the reference fails an op, that is the answer (each op addresses its
 *    own record, so its outcome depends on that record's consistent read).
 *    Otherwise send one `TransactWriteItems` whose every item carries a
 *    condition pinning the item exactly as read (or absent), and whose writes
 *    are the reference's results. DynamoDB applies all or nothing; if any
 *    item changed since the read, the transaction is cancelled and the round
 *    repeats from 1.
 *
 * Applied at most once: each round's request carries a fresh
 * `ClientRequestToken`, and DynamoDB answers a copy of it arriving within ten
 * minutes of the first (an SDK retry after a lost answer, or the store's own)
 * with success, applying nothing; the answer is then the round's result, as
 * the first application's. Should a copy be cancelled instead (a store without
 * that idempotency), the next round finds the round's write id in the items it
 * wrote and answers its result (see `write-ids.ts`).
 * @module
 */
import { randomUUID } from 'node:crypto';
import { TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { ConflictError, InvalidInputError } from '../../core/errors.js';
import type { RecordRef, StoredRecord, TransactOp, TransactResult } from '../contract.js';
import { type SyncTable, syncTransact } from '../shared/sync-engine.js';
import {
  checkMutation,
  checkNow,
  checkRecordInput,
  checkRef,
  checkWhere,
  MAX_TRANSACT_OPS,
} from '../shared/validate.js';
import { type EngineContext, MAX_ROUNDS, pause, type State } from './engine.js';
import { isRefused } from './errors.js';
import { Expr } from './expressions.js';
import type { RecordCodec } from './item-codec.js';
import { readItems } from './reads.js';
import { newWriteId } from './write-ids.js';

const id = (collection: string, key: string) => `${collection}\u0000${key}`;

/** The same input checks as the reference, before any request. */
function checkOps(ops: readonly TransactOp[], now: number): RecordRef[] {
  checkNow(now);
  if (!Array.isArray(ops) || ops.length === 0 || ops.length > MAX_TRANSACT_OPS) {
    throw new InvalidInputError(`transact takes 1..${MAX_TRANSACT_OPS} ops`, 'ops');
  }
  const refs: RecordRef[] = [];
  for (const op of ops) {
    if (typeof op !== 'object' || op === null) {
      throw new InvalidInputError('unknown transact op type', 'ops');
    }
    const ref = op.type === 'put' ? op.record : op.ref;
    if (op.type === 'put') checkRecordInput(op.record);
    else checkRef(ref);
    checkWhere(op.where);
    if (op.type === 'update') checkMutation(op.mutation);
    refs.push(ref);
  }
  return refs;
}

/**
 * `Store.transact`.
 * @throws InvalidInputError for bad ops (as the reference); ConflictError after repeated lost races
 */
export async function transactRecords(
  ctx: EngineContext,
  codecFor: (collection: string) => RecordCodec,
  ops: readonly TransactOp[],
  now: number,
): Promise<TransactResult> {
  const refs = checkOps(ops, now);
  for (const r of refs) codecFor(r.collection).key(r.collection, r.key);
  // The reference engine checks the rest (one partition, each record once,
  // orCreate inputs) in the first round, before anything is written.

  // The previous round's write id, result and the items it writes, to recognize it as applied.
  let previous: { id: string; result: TransactResult; written: number[] } | undefined;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const items = await readItems(ctx, codecFor, refs);
    if (previous !== undefined) {
      const p = previous;
      const applied = p.written.some((i) => {
        const r = refs[i] as RecordRef;
        return codecFor(r.collection).applied(items[i] ?? null, p.id) !== null;
      });
      if (applied) return p.result;
    }
    const states = new Map<string, State>();
    refs.forEach((r, i) => {
      const item = items[i] ?? null;
      states.set(id(r.collection, r.key), {
        item,
        record: item === null ? null : codecFor(r.collection).decode(item, r.collection),
      });
    });
    const planned = new Map<string, StoredRecord | null>();
    const table: SyncTable = {
      read: (c, k) => states.get(id(c, k))?.record ?? null,
      write: (r) => planned.set(id(r.collection, r.key), r),
      remove: (c, k) => planned.set(id(c, k), null),
    };
    const result = syncTransact(table, ops, now);
    if (!result.ok) return result;

    const writeId = newWriteId();
    const written: number[] = [];
    const transactItems = refs.map((r, i) => {
      const codec = codecFor(r.collection);
      const state = states.get(id(r.collection, r.key)) as State;
      const e = new Expr();
      const condition = codec.pin(e, state.item);
      const key = codec.key(r.collection, r.key);
      const base = { TableName: codec.tableName, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' };
      const rid = id(r.collection, r.key);
      if (!planned.has(rid)) {
        return {
          ConditionCheck: { ...base, Key: key, ConditionExpression: condition, ...e.params() },
        };
      }
      const next = planned.get(rid) as StoredRecord | null;
      if (next === null) {
        return { Delete: { ...base, Key: key, ConditionExpression: condition, ...e.params() } };
      }
      written.push(i);
      const w = codec.write(next, e, state.item, writeId, false);
      if (w.kind === 'put') {
        return { Put: { ...base, Item: w.item, ConditionExpression: condition, ...e.params() } };
      }
      return {
        Update: {
          ...base,
          Key: w.key,
          UpdateExpression: w.updateExpression,
          ConditionExpression: condition,
          ...e.params(),
        },
      };
    });
    try {
      await ctx.send(
        new TransactWriteItemsCommand({
          TransactItems: transactItems as never,
          ClientRequestToken: randomUUID(),
        }),
        // Safe to send again: DynamoDB applies a token's request once.
        { idempotent: true },
      );
      return result;
    } catch (err) {
      if (!isCancelledByCondition(err)) throw err;
      previous = { id: writeId, result, written };
      await pause(round + 2);
    }
  }
  throw new ConflictError('DynamoDB items kept changing; gave up after repeated conflicts.');
}

/** A transaction cancelled because an item no longer matched what was read. */
export function isCancelledByCondition(err: unknown): boolean {
  const e = err as { name?: string; CancellationReasons?: Array<{ Code?: string }> };
  if (e?.name !== 'TransactionCanceledException' || isRefused(err)) return false;
  return (e.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed');
}
