/**
 * The write logic of the contract over a synchronous record table. Stores
 * whose backend can run JavaScript inside one critical section (memory: the
 * event loop; SQLite: an immediate transaction) call these functions there, so
 * conditions and mutations follow {@link applyMutation} and {@link matchesWhere}
 * exactly.
 * @module
 */
import { InvalidInputError } from '../../core/errors.js';
import type {
  DeleteResult,
  Mutation,
  PutMode,
  PutResult,
  RecordInput,
  RecordRef,
  StoredRecord,
  TransactOp,
  TransactResult,
  UpdateOptions,
  UpdateResult,
  Where,
} from '../contract.js';
import { applyMutation, isLive, matchesWhere, materialize } from './semantics.js';
import {
  checkMutation,
  checkNow,
  checkRecordInput,
  checkRef,
  checkTransactOps,
  checkWhere,
} from './validate.js';

/** A synchronous record table: what a backend gives the engine. */
export interface SyncTable {
  read(collection: string, key: string): StoredRecord | null;
  write(record: StoredRecord): void;
  remove(collection: string, key: string): void;
}

/**
 * Refuse an address whose partition differs from the stored record's.
 * @throws InvalidInputError naming both partitions
 * @example `checkPartition(current, partition);`
 */
export function checkPartition(record: StoredRecord | null, partition: string): void {
  if (record !== null && record.partition !== partition) {
    throw new InvalidInputError(
      `record ${record.collection}/${record.key} lives in partition ${record.partition}, not ${partition}`,
      'partition',
    );
  }
}

/** Plan a put without writing: the record to write, or the failure. */
function planPut(
  t: SyncTable,
  input: RecordInput,
  partition: string,
  mode: PutMode,
  now: number,
  where: Where | undefined,
): PutResult {
  const current = t.read(input.collection, input.key);
  checkPartition(current, partition);
  const live = current !== null && isLive(current, now);
  if (mode === 'insert' && live) return { ok: false, current };
  if (mode === 'replace' && (!live || !matchesWhere(current, where))) return { ok: false, current };
  const version = current === null ? 1 : current.version + 1;
  return { ok: true, record: materialize(input, partition, version) };
}

function planUpdate(
  t: SyncTable,
  ref: RecordRef,
  partition: string,
  mutation: Mutation,
  options: UpdateOptions,
): UpdateResult {
  const current = t.read(ref.collection, ref.key);
  checkPartition(current, partition);
  if (options.orCreate !== undefined) {
    const now = options.now as number;
    if (current === null || !isLive(current, now)) {
      const base = materialize(
        { ...options.orCreate, collection: ref.collection, key: ref.key },
        partition,
        current === null ? 0 : current.version,
      );
      return { ok: true, record: applyMutation(base, mutation), created: true };
    }
  }
  if (current === null || !matchesWhere(current, options.where)) return { ok: false, current };
  return { ok: true, record: applyMutation(current, mutation), created: false };
}

/**
 * Check the arguments of `Store.update` as every store must, before touching
 * the backend.
 * @returns the partition the ref names
 * @throws InvalidInputError for anything malformed
 * @example `const partition = checkUpdate(ref, mutation, options);`
 */
export function checkUpdate(ref: RecordRef, mutation: Mutation, options: UpdateOptions): string {
  const partition = checkRef(ref);
  checkMutation(mutation);
  checkWhere(options.where);
  if (options.orCreate !== undefined) {
    checkNow(options.now);
    checkRecordInput({ ...options.orCreate, collection: 'x', key: 'x' });
  } else if (options.now !== undefined) {
    checkNow(options.now);
  }
  return partition;
}

/** `Store.put` over a sync table. Call inside the backend's critical section. */
export function syncPut(
  t: SyncTable,
  input: RecordInput,
  mode: PutMode,
  now: number,
  where?: Where,
): PutResult {
  const partition = checkRecordInput(input);
  checkNow(now);
  checkWhere(where);
  if (mode !== 'insert' && mode !== 'upsert' && mode !== 'replace') {
    throw new InvalidInputError('mode must be insert, upsert or replace', 'mode');
  }
  const plan = planPut(t, input, partition, mode, now, where);
  if (plan.ok) t.write(plan.record);
  return plan;
}

/** `Store.update` over a sync table. */
export function syncUpdate(
  t: SyncTable,
  ref: RecordRef,
  mutation: Mutation,
  options: UpdateOptions = {},
): UpdateResult {
  const partition = checkUpdate(ref, mutation, options);
  const plan = planUpdate(t, ref, partition, mutation, options);
  if (plan.ok) t.write(plan.record);
  return plan;
}

/** `Store.delete` over a sync table. */
export function syncDelete(t: SyncTable, ref: RecordRef, where?: Where): DeleteResult {
  const partition = checkRef(ref);
  checkWhere(where);
  const current = t.read(ref.collection, ref.key);
  checkPartition(current, partition);
  if (current === null || !matchesWhere(current, where)) return { ok: false, current };
  t.remove(ref.collection, ref.key);
  return { ok: true, previous: current };
}

/**
 * `Store.transact` over a sync table: plan every op against the table as the
 * earlier ops leave it, and write only when all conditions hold.
 * @param samePartition - enforce the portable one-partition rule (default true)
 */
export function syncTransact(
  t: SyncTable,
  ops: readonly TransactOp[],
  now: number,
  samePartition = true,
): TransactResult {
  checkNow(now);
  // Validate everything first so a bad op never leaves a partial plan behind.
  checkTransactOps(ops, samePartition);
  // Plan against an overlay so later ops see earlier writes.
  const overlay = new Map<string, StoredRecord | null>();
  const view: SyncTable = {
    read: (c, k) => {
      const id = `${c}\u0000${k}`;
      return overlay.has(id) ? (overlay.get(id) ?? null) : t.read(c, k);
    },
    write: (r) => overlay.set(`${r.collection}\u0000${r.key}`, r),
    remove: (c, k) => overlay.set(`${c}\u0000${k}`, null),
  };
  const records: Array<StoredRecord | null> = [];
  for (const [i, op] of ops.entries()) {
    if (op.type === 'put') {
      const p = planPut(
        view,
        op.record,
        op.record.partition ?? op.record.key,
        op.mode,
        now,
        op.where,
      );
      if (!p.ok) return { ok: false, failedIndex: i, current: p.current };
      view.write(p.record);
      records.push(p.record);
    } else if (op.type === 'update') {
      const u = planUpdate(view, op.ref, op.ref.partition ?? op.ref.key, op.mutation, {
        where: op.where,
        orCreate: op.orCreate,
        now,
      });
      if (!u.ok) return { ok: false, failedIndex: i, current: u.current };
      view.write(u.record);
      records.push(u.record);
    } else if (op.type === 'delete') {
      const current = view.read(op.ref.collection, op.ref.key);
      if (current === null || !matchesWhere(current, op.where)) {
        return { ok: false, failedIndex: i, current };
      }
      view.remove(op.ref.collection, op.ref.key);
      records.push(null);
    } else if (op.type === 'check') {
      const current = view.read(op.ref.collection, op.ref.key);
      const ok = op.absent
        ? current === null || !isLive(current, now)
        : current !== null && matchesWhere(current, op.where);
      if (!ok) return { ok: false, failedIndex: i, current };
      records.push(current);
    } else {
      throw new InvalidInputError('unknown transact op type', 'ops');
    }
  }
  for (const [id, r] of overlay) {
    if (r === null) {
      const sep = id.indexOf('\u0000');
      t.remove(id.slice(0, sep), id.slice(sep + 1));
    } else {
      t.write(r);
    }
  }
  return { ok: true, records };
}
