/**
 * Validation and encoding of the store's write ops: each becomes the tokens
 * of one op of the write script (see `codec.ts`), plus what it may need from
 * the list and index entries (see `entries.ts`).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { InvalidInputError } from '../../core/errors.js';
import type {
  Mutation,
  RecordInput,
  RecordRef,
  TransactOp,
  UpdateOptions,
  Where,
} from '../contract.js';
import { checkNow, checkRecordInput, checkTransactOps, checkWhere } from '../shared/validate.js';
import { inputTokens, mutationTokens, whereTokens } from './codec.js';
import type { EntryIntent } from './entries.js';

/** The op types of the write script. */
export type OpType = 'put' | 'update' | 'delete' | 'check' | 'expire';

/** One op of a write, addressed and encoded (its tokens after type and key index). */
export interface PlannedOp {
  readonly ref: { collection: string; key: string; partition: string };
  readonly type: OpType;
  readonly tokens: string[];
  /** Entries the op may need before its record step (null: none). */
  readonly intent: EntryIntent | null;
  /** Whether a committed op may need follow-up work (entries, expiry hints). */
  readonly followUp: boolean;
}

/**
 * Incarnation ids only need to be unique (they tell one lifetime of a record
 * key from the next): a random per-process prefix and a counter, no CSPRNG
 * call per write.
 */
const ID_PREFIX = randomBytes(6).toString('hex');
let idCounter = 0;
const newId = () => {
  idCounter = (idCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `${ID_PREFIX}${idCounter.toString(36)}`;
};

export function checkMode(mode: unknown): void {
  if (mode !== 'insert' && mode !== 'upsert' && mode !== 'replace') {
    throw new InvalidInputError('mode must be insert, upsert or replace', 'mode');
  }
}

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

export function addressed(ref: RecordRef, partition: string) {
  return { collection: ref.collection, key: ref.key, partition };
}

export function planPutOp(record: RecordInput, mode: string, where: Where | undefined): PlannedOp {
  const ref = addressed(record, record.partition ?? record.key);
  const tokens = [newId(), mode];
  whereTokens(tokens, mode === 'replace' ? where : undefined);
  inputTokens(tokens, record);
  const indexValues = Object.entries(record.index ?? {});
  const mayCreate = mode !== 'replace';
  return {
    ref,
    type: 'put',
    tokens,
    intent: mayCreate || indexValues.length > 0 ? { ...ref, mayCreate, indexValues } : null,
    followUp: true,
  };
}

export function planUpdateOp(
  ref: RecordRef,
  partition: string,
  mutation: Mutation,
  where: Where | undefined,
  orCreate: Omit<RecordInput, keyof RecordRef> | undefined,
): PlannedOp {
  const r = addressed(ref, partition);
  const tokens = [orCreate !== undefined ? newId() : ''];
  whereTokens(tokens, where);
  if (orCreate !== undefined) {
    tokens.push('1');
    inputTokens(tokens, orCreate);
  } else {
    tokens.push('0');
  }
  mutationTokens(tokens, mutation);
  const indexValues: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(mutation.index ?? {})) {
    if (value !== null) indexValues.push([name, value]);
  }
  if (orCreate !== undefined) indexValues.push(...Object.entries(orCreate.index ?? {}));
  const mayCreate = orCreate !== undefined;
  return {
    ref: r,
    type: 'update',
    tokens,
    intent: mayCreate || indexValues.length > 0 ? { ...r, mayCreate, indexValues } : null,
    followUp: mayCreate || mutation.index !== undefined || mutation.expiresAt !== undefined,
  };
}

export function planDeleteOp(
  ref: RecordRef,
  partition: string,
  where: Where | undefined,
): PlannedOp {
  const tokens: string[] = [];
  whereTokens(tokens, where);
  return { ref: addressed(ref, partition), type: 'delete', tokens, intent: null, followUp: true };
}

export function planCheckOp(
  ref: RecordRef,
  partition: string,
  where: Where | undefined,
  absent: boolean,
): PlannedOp {
  const tokens = [absent ? '1' : '0'];
  whereTokens(tokens, where);
  return { ref: addressed(ref, partition), type: 'check', tokens, intent: null, followUp: false };
}

/**
 * Validate a transaction as `syncTransact` does, and plan its ops.
 * @throws InvalidInputError for an empty or oversized list, ops in several
 *   partitions, a record addressed twice, or any malformed op
 */
export function planTransact(ops: readonly TransactOp[]): PlannedOp[] {
  const partitions = checkTransactOps(ops);
  return ops.map((op, i) => {
    const p = partitions[i] as string;
    if (op.type === 'put') {
      checkMode(op.mode);
      return planPutOp(op.record, op.mode, op.where);
    }
    if (op.type === 'update') return planUpdateOp(op.ref, p, op.mutation, op.where, op.orCreate);
    if (op.type === 'delete') return planDeleteOp(op.ref, p, op.where);
    return planCheckOp(op.ref, p, op.where, op.absent === true);
  });
}
