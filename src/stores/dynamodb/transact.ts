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

  for (let round = 0; round < MAX_ROUNDS; round++) {
    const items = await readItems(ctx, codecFor, refs);
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

    const transactItems = refs.map((r) => {
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
      const w = codec.write(next, e, state.item);
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
      );
      return result;
    } catch (err) {
      if (!isCancelledByCondition(err)) throw err;
      await pause(round + 2);
    }
  }
  throw new ConflictError('DynamoDB items kept changing; gave up after repeated conflicts.');
}

/** A transaction cancelled because an item no longer matched what was read. */
function isCancelledByCondition(err: unknown): boolean {
  const e = err as { name?: string; CancellationReasons?: Array<{ Code?: string }> };
  if (e?.name !== 'TransactionCanceledException' || isRefused(err)) return false;
  return (e.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed');
}
