/**
 * `put`, `update` and `delete` of the DynamoDB store: the native conditional
 * write first, the reference engine on the item's real state after a failed
 * condition (see `engine.ts`).
 * @module
 */
import { ConflictError, InvalidInputError } from '../../core/errors.js';
import type {
  DeleteResult,
  Mutation,
  PutMode,
  PutResult,
  RecordInput,
  RecordRef,
  UpdateOptions,
  UpdateResult,
  Where,
} from '../contract.js';
import { materialize } from '../shared/semantics.js';
import { syncDelete, syncPut, syncUpdate } from '../shared/sync-engine.js';
import {
  checkMutation,
  checkNow,
  checkRecordInput,
  checkRef,
  checkWhere,
} from '../shared/validate.js';
import {
  absentOrExpired,
  type EngineContext,
  existsIn,
  fullWriteActions,
  MAX_ROUNDS,
  nativeDelete,
  nativeUpdate,
  pause,
  pinnedWrite,
  readModifyWrite,
  readState,
  type State,
  stateTable,
} from './engine.js';
import {
  and,
  compileMutation,
  Expr,
  impliesDataMap,
  liveCondition,
  numericFields,
  whereCondition,
} from './expressions.js';
import { newWriteId, type RecordCodec } from './item-codec.js';

/** Check the options of `update` as the reference engine does, before any request. */
export function checkUpdateOptions(options: UpdateOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidInputError('options must be an object', 'options');
  }
  checkWhere(options.where);
  if (options.orCreate !== undefined) {
    checkNow(options.now);
    checkRecordInput({ ...options.orCreate, collection: 'x', key: 'x' });
  } else if (options.now !== undefined) {
    checkNow(options.now);
  }
}

/** `Store.put`. */
export async function putRecord(
  ctx: EngineContext,
  codec: RecordCodec,
  input: RecordInput,
  mode: PutMode,
  now: number,
  where: Where | undefined,
): Promise<PutResult> {
  const partition = checkRecordInput(input);
  checkNow(now);
  checkWhere(where);
  if (mode !== 'insert' && mode !== 'upsert' && mode !== 'replace') {
    throw new InvalidInputError('mode must be insert, upsert or replace', 'mode');
  }
  codec.key(input.collection, input.key);
  const plan = (t: Parameters<typeof syncPut>[0]) => syncPut(t, input, mode, now, where);
  if (!codec.native) return readModifyWrite(ctx, codec, input, undefined, plan);

  const e = new Expr();
  const record = materialize(input, partition);
  let condition: string | undefined;
  if (mode === 'insert') condition = absentOrExpired(e, partition, now);
  else if (mode === 'upsert') {
    condition = `attribute_not_exists(${e.name('pk')}) OR ${e.name('p')} = ${e.value({ S: partition })}`;
  } else {
    condition = and([
      existsIn(e, partition, impliesDataMap(where)),
      liveCondition(e, now),
      whereCondition(e, where),
    ]);
  }
  const out = await nativeUpdate(ctx, codec, input, e, fullWriteActions(ctx, e, record), condition);
  if (out.ok) return { ok: true, record: codec.decode(out.item, input.collection) };
  return readModifyWrite(ctx, codec, input, out.state, plan);
}

/** `Store.delete`. */
export async function deleteRecord(
  ctx: EngineContext,
  codec: RecordCodec,
  ref: RecordRef,
  where: Where | undefined,
): Promise<DeleteResult> {
  const partition = checkRef(ref);
  checkWhere(where);
  codec.key(ref.collection, ref.key);
  const plan = (t: Parameters<typeof syncDelete>[0]) => syncDelete(t, ref, where);
  if (!codec.native) return readModifyWrite(ctx, codec, ref, undefined, plan);
  const e = new Expr();
  const condition = and([
    existsIn(e, partition, impliesDataMap(where)),
    whereCondition(e, where),
  ]) as string;
  const out = await nativeDelete(ctx, codec, ref, e, condition);
  if (out.ok) return { ok: true, previous: codec.decode(out.item, ref.collection) };
  return readModifyWrite(ctx, codec, ref, out.state, plan);
}

/**
 * `Store.update`. The native forms: "mutate" (one UpdateItem applying the
 * mutation to a live record matching `where`) and, with `orCreate`, "create"
 * (one UpdateItem writing the fresh record over an absent or expired one).
 * Which to try comes from what is known of the item; after a failed native
 * mutate on an item the reference could mutate, the rest of the call uses the
 * pinned read-modify-write.
 */
export async function updateRecord(
  ctx: EngineContext,
  codec: RecordCodec,
  ref: RecordRef,
  mutation: Mutation,
  options: UpdateOptions,
): Promise<UpdateResult> {
  const partition = checkRef(ref);
  checkMutation(mutation);
  checkUpdateOptions(options);
  codec.key(ref.collection, ref.key);
  const plan = (t: Parameters<typeof syncUpdate>[0]) => syncUpdate(t, ref, mutation, options);
  if (!codec.native) return readModifyWrite(ctx, codec, ref, undefined, plan);

  const numbers = numericFields(options.where);
  // The first native mutate uses this compilation (and its placeholders); later rounds compile again.
  let firstExpr: Expr | undefined = new Expr();
  const firstCompiled = compileMutation(firstExpr, mutation, ctx.ttlSeconds, numbers);
  const canMutate = firstCompiled !== null;
  let state: State | undefined;
  let mutateFailedOnMutable = false;
  let lastNative: 'mutate' | 'create' | null = null;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    let action: 'mutate' | 'create' | 'pinned';
    let planned: ReturnType<typeof stateTable> | undefined;
    let result: UpdateResult | undefined;
    if (state === undefined) {
      if (!canMutate) {
        state = await readState(ctx, codec, ref);
        continue;
      }
      action = 'mutate';
    } else {
      planned = stateTable(state);
      result = plan(planned.table);
      if (!result.ok) return result;
      if (result.created) {
        action = 'create';
      } else {
        if (lastNative === 'mutate') mutateFailedOnMutable = true;
        const dataAsJson = state.item?.dj !== undefined;
        action = canMutate && !mutateFailedOnMutable && !dataAsJson ? 'mutate' : 'pinned';
      }
    }

    if (action === 'pinned') {
      lastNative = null;
      const next = planned?.planned();
      if (state === undefined || next === undefined) return result as UpdateResult;
      const failed = await pinnedWrite(ctx, codec, ref, state, next);
      if (failed === null) return result as UpdateResult;
      state = failed;
      await pause(round);
      continue;
    }

    const reuse = action === 'mutate' && firstExpr !== undefined;
    const e = reuse ? (firstExpr as Expr) : new Expr();
    firstExpr = undefined;
    let out: Awaited<ReturnType<typeof nativeUpdate>>;
    if (action === 'mutate') {
      const compiled = reuse
        ? firstCompiled
        : compileMutation(e, mutation, ctx.ttlSeconds, numbers);
      if (compiled === null) throw new Error('unreachable: mutation stopped compiling');
      const v = e.name('v');
      const set = [
        ...compiled.set,
        `${v} = ${v} + ${e.value({ N: '1' })}`,
        `${e.name('w')} = ${e.value({ S: newWriteId() })}`,
      ];
      const condition = and([
        existsIn(e, partition, impliesDataMap(options.where)),
        options.orCreate === undefined ? undefined : liveCondition(e, options.now as number),
        whereCondition(e, options.where),
        ...compiled.guards,
      ]);
      out = await nativeUpdate(ctx, codec, ref, e, { set, remove: compiled.remove }, condition);
    } else {
      const record = (result as Extract<UpdateResult, { ok: true }>).record;
      const condition = absentOrExpired(e, partition, options.now as number);
      out = await nativeUpdate(ctx, codec, ref, e, fullWriteActions(ctx, e, record), condition);
    }
    lastNative = action;
    if (out.ok) {
      return {
        ok: true,
        record: codec.decode(out.item, ref.collection),
        created: action === 'create',
      };
    }
    state = out.state;
    await pause(round);
  }
  throw new ConflictError('DynamoDB item kept changing; gave up after repeated conflicts.');
}
