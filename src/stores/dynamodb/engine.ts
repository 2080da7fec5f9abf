/**
 * The single-item write engine of the DynamoDB store.
 *
 * Every primitive first tries ONE native conditional write whose
 * `ConditionExpression` is the contract's condition compiled (see
 * `expressions.ts`). When that condition fails, the engine learns the item as
 * it is (from `ReturnValuesOnConditionCheckFailure: ALL_OLD` where DynamoDB
 * returns it, else from a consistent GetItem) and runs the shared reference
 * engine (`stores/shared/sync-engine.ts`) on it:
 * - the reference says the operation fails → that is the answer, with `current`;
 * - the reference says it succeeds (the item changed in between, or the native
 *   form could not express the case, e.g. `inc` on a NULL field) → write the
 *   reference's result with a condition pinning the item exactly as read (its
 *   write id `w`); if that fails, learn the item again and repeat.
 * So every decision is made by one conditional write at DynamoDB, and results
 * equal the reference's. Every write carries its call's write id, so a copy
 * re-sent after it was applied is refused and recognized (see `write-ids.ts`):
 * when a refused condition turns out to be the call's own earlier write, the
 * call answers success from the item instead of planning again.
 * @module
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ConflictError } from '../../core/errors.js';
import type { RecordRef, StoredRecord } from '../contract.js';
import type { SyncTable } from '../shared/sync-engine.js';
import { type Item, isNativeData, toAttr } from './attribute-values.js';
import { isConditionFailed, type Sender } from './errors.js';
import { and, Expr, updateExpression } from './expressions.js';
import { type RecordCodec, slotValues } from './item-codec.js';
import { INDEX_SLOT_ATTRIBUTES, PARTITION_KEY, TTL_ATTRIBUTE } from './table-design.js';
import { type Applied, shiftStamps } from './write-ids.js';

/** What the engine needs from the store. */
export interface EngineContext {
  readonly send: Sender;
  /** Whether DynamoDB has been seen returning the item on a failed condition. */
  readonly returnValues: { supported: boolean };
  /** TTL attribute value for an expiry (generic table). */
  readonly ttlSeconds: (expiresAt: number) => number;
}

/** An item as read, and its record. */
export interface State {
  readonly item: Item | null;
  readonly record: StoredRecord | null;
}

/** Most read-modify-write rounds before `ConflictError`. */
export const MAX_ROUNDS = 40;

/** A short random pause between rounds, so racers spread out. */
export async function pause(round: number): Promise<void> {
  if (round < 2) return;
  await sleep(Math.floor(Math.random() * Math.min(50, 2 ** round)));
}

/** The state an item is in, from a consistent read. */
export async function readState(
  ctx: EngineContext,
  codec: RecordCodec,
  ref: RecordRef,
): Promise<State> {
  const out = await ctx.send<{ Item?: Item }>(
    new GetItemCommand({
      TableName: codec.tableName,
      Key: codec.key(ref.collection, ref.key),
      ConsistentRead: true,
    }),
    { idempotent: true },
  );
  const item = out.Item ?? null;
  return { item, record: item === null ? null : codec.decode(item, ref.collection) };
}

/** The state after a failed condition: from the error when DynamoDB returned the item. */
export async function stateAfterFailure(
  ctx: EngineContext,
  codec: RecordCodec,
  ref: RecordRef,
  err: unknown,
): Promise<State> {
  const item = (err as { Item?: Item }).Item;
  if (item !== undefined && Object.keys(item).length > 0) {
    ctx.returnValues.supported = true;
    return { item, record: codec.decode(item, ref.collection) };
  }
  // Once DynamoDB is known to return the old item, no item means there is none.
  if (ctx.returnValues.supported) return { item: null, record: null };
  return readState(ctx, codec, ref);
}

/** A table for the reference engine that reads `state` and records the intended write. */
export function stateTable(state: State): {
  table: SyncTable;
  planned: () => StoredRecord | null | undefined;
} {
  let planned: StoredRecord | null | undefined;
  return {
    table: {
      read: () => state.record,
      write: (r) => {
        planned = r;
      },
      remove: () => {
        planned = null;
      },
    },
    planned: () => planned,
  };
}

/** A refused write: the item as it is, and whether the call's write is in it. */
export interface Refused {
  readonly state: State;
  /** Non-null when an earlier copy of the call's write was applied (see `write-ids.ts`). */
  readonly applied: Applied | null;
}

/** The state after a refused write of call `id`, and whether that call was applied. */
async function refused(
  ctx: EngineContext,
  codec: RecordCodec,
  ref: RecordRef,
  err: unknown,
  id: string,
): Promise<Refused> {
  const state = await stateAfterFailure(ctx, codec, ref, err);
  return { state, applied: codec.applied(state.item, id) };
}

/**
 * Write `planned` only if the item is still exactly `state`, stamped with
 * call `id` (`created`: the write creates the record).
 * @returns null on success, else why it was refused
 */
export async function pinnedWrite(
  ctx: EngineContext,
  codec: RecordCodec,
  ref: RecordRef,
  state: State,
  planned: StoredRecord,
  id: string,
  created: boolean,
): Promise<Refused | null> {
  const e = new Expr();
  const condition = codec.pin(e, state.item);
  const common = { TableName: codec.tableName, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' };
  const w = codec.write(planned, e, state.item, id, created);
  const command =
    w.kind === 'put'
      ? new PutItemCommand({
          ...common,
          Item: w.item,
          ConditionExpression: condition,
          ...e.params(),
        } as never)
      : new UpdateItemCommand({
          ...common,
          Key: w.key,
          UpdateExpression: w.updateExpression,
          ConditionExpression: condition,
          ...e.params(),
        } as never);
  try {
    // A copy sent again after this one was applied fails the pin, and is recognized.
    await ctx.send(command, { idempotent: true });
    return null;
  } catch (err) {
    if (!isConditionFailed(err)) throw err;
    return refused(ctx, codec, ref, err, id);
  }
}

/**
 * Run `plan` (the reference engine on a one-item table) against the item's
 * state and write its result pinned to that state, until a write lands or the
 * reference says the operation fails. The plan must not delete (deletes are
 * transactions, see `delete.ts`).
 *
 * @param initial - the state if already known (else it is read first)
 * @param id - the call's write id
 * @param replay - the answer when an earlier write of the call turns out to
 *   have been applied: built from the item as it is now
 * @throws ConflictError after {@link MAX_ROUNDS} lost races
 */
export async function readModifyWrite<R extends { ok: boolean }>(
  ctx: EngineContext,
  codec: RecordCodec,
  ref: RecordRef,
  initial: State | undefined,
  plan: (table: SyncTable) => R,
  id: string,
  replay: (item: Item, applied: Applied) => R,
): Promise<R> {
  let state = initial ?? (await readState(ctx, codec, ref));
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const t = stateTable(state);
    const result = plan(t.table);
    const planned = t.planned();
    if (!result.ok || planned === undefined) return result;
    if (planned === null) throw new Error('unreachable: a read-modify-write plan deleted');
    const created = (result as { created?: boolean }).created === true;
    const failed = await pinnedWrite(ctx, codec, ref, state, planned, id, created);
    if (failed === null) return result;
    if (failed.applied !== null) return replay(failed.state.item as Item, failed.applied);
    state = failed.state;
    await pause(round);
  }
  throw new ConflictError('DynamoDB item kept changing; gave up after repeated conflicts.');
}

/**
 * The SET/REMOVE actions that make the item hold `record` (version from the
 * item), written by call `id` (`created`: the write creates the record).
 */
export function fullWriteActions(
  ctx: EngineContext,
  e: Expr,
  record: StoredRecord,
  id: string,
  created: boolean,
): { set: string[]; remove: string[] } {
  const set = [`${e.name('p')} = ${e.value({ S: record.partition })}`];
  const remove: string[] = [];
  if (isNativeData(record.data)) {
    set.push(`${e.name('d')} = ${e.value(toAttr(record.data))}`);
    remove.push(e.name('dj'));
  } else {
    set.push(`${e.name('dj')} = ${e.value({ S: JSON.stringify(record.data) })}`);
    remove.push(e.name('d'));
  }
  const v = e.name('v');
  set.push(`${v} = if_not_exists(${v}, ${e.value({ N: '0' })}) + ${e.value({ N: '1' })}`);
  set.push(...shiftStamps(e, id, created));
  if (record.expiresAt === null) {
    remove.push(e.name('x'), e.name(TTL_ATTRIBUTE));
  } else {
    set.push(`${e.name('x')} = ${e.value({ N: String(record.expiresAt) })}`);
    set.push(
      `${e.name(TTL_ATTRIBUTE)} = ${e.value({ N: String(ctx.ttlSeconds(record.expiresAt)) })}`,
    );
  }
  const slots = slotValues(record.collection, record.index);
  INDEX_SLOT_ATTRIBUTES.forEach((attr, i) => {
    const value = slots[i];
    if (value === undefined) remove.push(e.name(attr));
    else set.push(`${e.name(attr)} = ${e.value({ S: value })}`);
  });
  return { set, remove };
}

/** Outcome of one native write. */
export type NativeOutcome =
  | { readonly ok: true; readonly item: Item }
  | ({ readonly ok: false } & Refused);

/**
 * One native UpdateItem of call `id`, returning the new item or why it was
 * refused. `condition` must hold {@link notWrittenBy} the call, and the
 * actions must stamp the item with it (see `write-ids.ts`).
 */
export async function nativeUpdate(
  ctx: EngineContext,
  codec: RecordCodec,
  ref: RecordRef,
  e: Expr,
  actions: { set: string[]; remove: string[] },
  condition: string,
  id: string,
): Promise<NativeOutcome> {
  try {
    const out = await ctx.send<{ Attributes?: Item }>(
      new UpdateItemCommand({
        TableName: codec.tableName,
        Key: codec.key(ref.collection, ref.key),
        UpdateExpression: updateExpression(actions.set, actions.remove),
        ConditionExpression: condition,
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        ...e.params(),
      }),
      // Safe to send again: a copy arriving after this one was applied is refused and recognized.
      { idempotent: true },
    );
    return { ok: true, item: out.Attributes ?? {} };
  } catch (err) {
    if (!isConditionFailed(err)) throw err;
    return { ok: false, ...(await refused(ctx, codec, ref, err, id)) };
  }
}

/**
 * `attribute_exists(#d) AND #p = :p`: an existing native record in this
 * partition (`dataImplied`: the rest of the condition already requires `d`).
 */
export function existsIn(e: Expr, partition: string, dataImplied = false): string {
  return and([
    dataImplied ? undefined : `attribute_exists(${e.name('d')})`,
    `${e.name('p')} = ${e.value({ S: partition })}`,
  ]) as string;
}

/** Absent, or expired at `now` in this partition (what `insert` and `orCreate` may replace). */
export function absentOrExpired(e: Expr, partition: string, now: number): string {
  const x = e.name('x');
  return `attribute_not_exists(${e.name(PARTITION_KEY)}) OR (${e.name('p')} = ${e.value({ S: partition })} AND ${x} <= ${e.value({ N: String(now) })})`;
}
