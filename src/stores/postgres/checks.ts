/**
 * Input checks of the PostgreSQL store that run before any I/O, mirroring
 * the shared sync engine's (which the store cannot call before it has read
 * the records), and the typed errors its retry loops end with.
 * @module
 */
import { ConflictError, InvalidInputError } from '../../core/errors.js';
import type { RecordRef, StoredRecord, TransactOp, UpdateOptions } from '../contract.js';
import { checkNow, checkRecordInput, checkTransactOps, checkWhere } from '../shared/validate.js';

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
  checkTransactOps(ops);
  return ops.map((op) => {
    const ref = op.type === 'put' ? op.record : op.ref;
    return { collection: ref.collection, key: ref.key };
  });
}

/** A conditional write that kept losing races between its statements. */
export function conflict(operation: string): ConflictError {
  return new ConflictError(
    `PostgreSQL ${operation}: the record kept changing between statements; retry`,
  );
}
