/**
 * `put` and `update` of the DynamoDB store: the native conditional write
 * first, the reference engine on the item's real state after a failed
 * condition (see `engine.ts`). Each call stamps its writes with one write id,
 * so a copy re-sent after it was applied is refused and recognized (see
 * `write-ids.ts`). `delete` is in `delete.ts`.
 * @module
 */
import { ConflictError, InvalidInputError } from '../../core/errors.js';
import type {
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
import { syncPut, syncUpdate } from '../shared/sync-engine.js';
import {
  checkMutation,
  checkNow,
  checkRecordInput,
  checkRef,
  checkWhere,
} from '../shared/validate.js';
import type { Item } from './attribute-values.js';
import {
  absentOrExpired,
  type EngineContext,
  existsIn,
  fullWriteActions,
  MAX_ROUNDS,
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
import type { RecordCodec } from './item-codec.js';
import { type Applied, newWriteId, notWrittenBy, shiftStamps } from './write-ids.js';

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
  const id = newWriteId();
  const replay = (item: Item): PutResult => ({
    ok: true,
    record: codec.decode(item, input.collection),
  });
  if (!codec.native) return readModifyWrite(ctx, codec, input, undefined, plan, id, replay);

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
  const actions = fullWriteActions(ctx, e, record, id, false);
  const guarded = and([condition, notWrittenBy(e, id)]) as string;
  const out = await nativeUpdate(ctx, codec, input, e, actions, guarded, id);
  if (out.ok) return { ok: true, record: codec.decode(out.item, input.collection) };
  if (out.applied !== null) return replay(out.state.item as Item);
  return readModifyWrite(ctx, codec, input, out.state, plan, id, replay);
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
  const id = newWriteId();
  const replay = (item: Item, applied: Applied): UpdateResult => ({
    ok: true,
    record: codec.decode(item, ref.collection),
    created: applied.created,
  });
  if (!codec.native) return readModifyWrite(ctx, codec, ref, undefined, plan, id, replay);

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
      if (next === null) throw new Error('unreachable: update planned a delete');
      const created = (result as Extract<UpdateResult, { ok: true }>).created;
      const failed = await pinnedWrite(ctx, codec, ref, state, next, id, created);
      if (failed === null) return result as UpdateResult;
      if (failed.applied !== null) return replay(failed.state.item as Item, failed.applied);
      state = failed.state;
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
      const set = [...compiled.set, `${v} = ${v} + ${e.value({ N: '1' })}`, ...shiftStamps(e, id)];
      const condition = and([
        existsIn(e, partition, impliesDataMap(options.where)),
        options.orCreate === undefined ? undefined : liveCondition(e, options.now as number),
        whereCondition(e, options.where),
        ...compiled.guards,
        notWrittenBy(e, id),
      ]) as string;
      out = await nativeUpdate(ctx, codec, ref, e, { set, remove: compiled.remove }, condition, id);
    } else {
      const record = (result as Extract<UpdateResult, { ok: true }>).record;
      const condition = and([
        absentOrExpired(e, partition, options.now as number),
        notWrittenBy(e, id),
      ]) as string;
      const actions = fullWriteActions(ctx, e, record, id, true);
      out = await nativeUpdate(ctx, codec, ref, e, actions, condition, id);
    }
    lastNative = action;
    if (out.ok) {
      return {
        ok: true,
        record: codec.decode(out.item, ref.collection),
        created: action === 'create',
      };
    }
    if (out.applied !== null) return replay(out.state.item as Item, out.applied);
    state = out.state;
    await pause(round);
  }
  throw new ConflictError('DynamoDB item kept changing; gave up after repeated conflicts.');
}
