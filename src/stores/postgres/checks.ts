/**
 * Input checks of the PostgreSQL store that run before any I/O, mirroring
 * the shared sync engine's (which the store cannot call before it has read
 * the records), and the typed errors its retry loops end with.
 * @module
 */
import { ConflictError, InvalidInputError } from '../../core/errors.js';
import type { RecordRef, StoredRecord, TransactOp, UpdateOptions } from '../contract.js';
import {
  checkMutation,
  checkNow,
  checkRecordInput,
  checkRef,
  checkWhere,
  MAX_TRANSACT_OPS,
} from '../shared/validate.js';

/** The error the reference engine throws for a record addressed through another partition. */
export function partitionError(record: StoredRecord, partition: string): InvalidInputError {
  return new InvalidInputError(
    `record ${record.collection}/${record.key} lives in partition ${record.partition}, not ${partition}`,
    'partition',
  );
}

/** The checks `syncUpdate` does on its options. */
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

/**
 * The validation `syncTransact` does before planning, run before touching the
 * database; returns the addressed records.
 * @throws InvalidInputError for bad ops, duplicates or several partitions
 */
export function checkTransact(ops: readonly TransactOp[], now: number): RecordRef[] {
  checkNow(now);
  if (!Array.isArray(ops) || ops.length === 0 || ops.length > MAX_TRANSACT_OPS) {
    throw new InvalidInputError(`transact takes 1..${MAX_TRANSACT_OPS} ops`, 'ops');
  }
  const partitions = new Set<string>();
  const seen = new Set<string>();
  const refs: RecordRef[] = [];
  for (const op of ops) {
    if (typeof op !== 'object' || op === null) {
      throw new InvalidInputError('unknown transact op type', 'ops');
    }
    const ref = op.type === 'put' ? op.record : op.ref;
    partitions.add(op.type === 'put' ? checkRecordInput(op.record) : checkRef(ref));
    const id = `${ref.collection}\u0000${ref.key}`;
    if (seen.has(id)) {
      throw new InvalidInputError('a transaction may address each record once', 'ops');
    }
    seen.add(id);
    checkWhere(op.where);
    if (op.type === 'update') {
      checkMutation(op.mutation);
      if (op.orCreate !== undefined) {
        checkRecordInput({ ...op.orCreate, collection: 'x', key: 'x' });
      }
    } else if (op.type !== 'put' && op.type !== 'delete' && op.type !== 'check') {
      throw new InvalidInputError('unknown transact op type', 'ops');
    }
    refs.push({ collection: ref.collection, key: ref.key });
  }
  if (partitions.size > 1) {
    throw new InvalidInputError('all ops of a transaction must address one partition', 'ops');
  }
  return refs;
}

/**
 * Check and default the options of `sweep()`: `[limit, graceMs]`.
 * @throws InvalidInputError for a non-positive `limit` or a negative `graceMs`
 */
export function checkSweepOptions(options: { limit?: number; graceMs?: number }): [number, number] {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidInputError('sweep options must be an object', 'options');
  }
  const limit = options.limit ?? 1000;
  const graceMs = options.graceMs ?? 0;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidInputError('sweep limit must be a positive integer', 'limit');
  }
  if (!Number.isSafeInteger(graceMs) || graceMs < 0) {
    throw new InvalidInputError('graceMs must be a non-negative integer (ms)', 'graceMs');
  }
  return [limit, graceMs];
}

/** A conditional write that kept losing races between its statements. */
export function conflict(operation: string): ConflictError {
  return new ConflictError(
    `PostgreSQL ${operation}: the record kept changing between statements; retry`,
  );
}
