/**
 * Input checks shared by every store, so that every backend rejects the same
 * inputs with the same `InvalidInputError`.
 * @module
 */
import { InvalidInputError } from '../../core/errors.js';
import {
  type FieldCondition,
  type JsonObject,
  MAX_INDEXES,
  type Mutation,
  type RecordInput,
  type RecordRef,
  type TransactOp,
  type Where,
} from '../contract.js';
import { isDeepFrozen } from './frozen.js';

const COLLECTION_RE = /^[a-z][a-z0-9_-]{0,31}$/;
const INDEX_RE = /^[a-z][a-z0-9_]{0,31}$/;
const FIELD_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL_RE = /[\u0000-\u001f\u007f]/;
// A lone UTF-16 surrogate has no UTF-8 form: SQL drivers mangle it, so two keys could collide.
const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** Either of the two above, in one scan (the common case: neither). */
const BAD_TEXT_RE = new RegExp(`${CONTROL_RE.source}|${LONE_SURROGATE_RE.source}`);
const FIELD_OPS = new Set(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'exists', 'absent', 'contains']);

/** Largest serialized `data` a record may hold, in bytes of JSON. */
export const MAX_DATA_BYTES = 64 * 1024;

/** Default and largest page sizes. */
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

/** Most ops in one transaction. */
export const MAX_TRANSACT_OPS = 25;

/**
 * Mutations and field conditions that passed their check while deeply frozen:
 * they can never change, so they are not checked again. Callers that pass the
 * same frozen constants on every call (a domain module's hot path) pay the
 * check once.
 */
const checked = new WeakSet<object>();

function remember(value: object): void {
  if (isDeepFrozen(value)) checked.add(value);
}

/** Field names that passed {@link checkField} (a bounded cache: cleared when full). */
const goodFields = new Set<string>();
const MAX_GOOD_FIELDS = 1024;
/** The last collection name that passed {@link checkCollection} (nothing equals the start value). */
let goodCollection: unknown = Symbol('none');

/** No control character and no surrogate at all: the common case, decided without a regex. */
function isPlainText(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
}

function checkString(value: unknown, what: string, max = 512): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new InvalidInputError(`${what} must be a string of 1..${max} characters`, what);
  }
  if (isPlainText(value) || !BAD_TEXT_RE.test(value)) return;
  if (CONTROL_RE.test(value)) {
    throw new InvalidInputError(`${what} must not contain control characters`, what);
  }
  if (LONE_SURROGATE_RE.test(value)) {
    throw new InvalidInputError(`${what} must be well-formed Unicode (no lone surrogates)`, what);
  }
}

/** Check a collection name. */
export function checkCollection(collection: unknown): asserts collection is string {
  if (collection === goodCollection) return;
  if (typeof collection !== 'string' || !COLLECTION_RE.test(collection)) {
    throw new InvalidInputError('collection must match /^[a-z][a-z0-9_-]{0,31}$/', 'collection');
  }
  goodCollection = collection;
}

/** Check an index name. */
export function checkIndexName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !INDEX_RE.test(name)) {
    throw new InvalidInputError('index name must match /^[a-z][a-z0-9_]{0,31}$/', 'index');
  }
}

/** Check an index value. */
export function checkIndexValue(value: unknown): asserts value is string {
  checkString(value, 'index value');
}

/** Check a field name. */
export function checkField(field: unknown): asserts field is string {
  if (typeof field === 'string' && goodFields.has(field)) return;
  if (typeof field !== 'string' || !FIELD_RE.test(field)) {
    throw new InvalidInputError(
      'field name must match /^[A-Za-z_][A-Za-z0-9_]{0,63}$/',
      String(field),
    );
  }
  if (goodFields.size >= MAX_GOOD_FIELDS) goodFields.clear();
  goodFields.add(field);
}

/** Check an expiry (ms since epoch, or null). */
export function checkExpiry(expiresAt: unknown): asserts expiresAt is number | null {
  if (expiresAt === null) return;
  if (typeof expiresAt !== 'number' || !Number.isSafeInteger(expiresAt) || expiresAt < 0) {
    throw new InvalidInputError(
      'expiresAt must be a non-negative integer (ms) or null',
      'expiresAt',
    );
  }
}

/** Check a clock reading. */
export function checkNow(now: unknown): asserts now is number {
  if (typeof now !== 'number' || !Number.isSafeInteger(now) || now < 0) {
    throw new InvalidInputError('now must be a non-negative integer (ms since epoch)', 'now');
  }
}

/** Check a record address and return its partition. */
export function checkRef(ref: RecordRef): string {
  if (typeof ref !== 'object' || ref === null)
    throw new InvalidInputError('ref must be an object', 'ref');
  checkCollection(ref.collection);
  checkString(ref.key, 'key');
  if (ref.partition !== undefined) checkString(ref.partition, 'partition');
  return ref.partition ?? ref.key;
}

function checkJsonValue(value: unknown, depth: number): void {
  if (depth > 32) throw new InvalidInputError('data is nested too deeply (max 32)', 'data');
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'string') {
    // Every backend must store the same strings: jsonb refuses NUL, and a lone
    // surrogate has no UTF-8 form.
    if (value.includes('\u0000') || LONE_SURROGATE_RE.test(value)) {
      throw new InvalidInputError('data strings must be well-formed Unicode without NUL', 'data');
    }
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidInputError('data numbers must be finite', 'data');
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) checkJsonValue(v, depth + 1);
    return;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new InvalidInputError('data must hold plain JSON values only', 'data');
    }
    for (const [k, v] of Object.entries(value as object)) {
      checkJsonValue(k, depth + 1);
      checkJsonValue(v, depth + 1);
    }
    return;
  }
  throw new InvalidInputError(`data must hold JSON values only (found ${typeof value})`, 'data');
}

/** Check a record's data object. */
export function checkData(data: unknown): asserts data is JsonObject {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new InvalidInputError('data must be a JSON object', 'data');
  }
  for (const k of Object.keys(data)) checkField(k);
  checkJsonValue(data, 0);
  if (Buffer.byteLength(JSON.stringify(data)) > MAX_DATA_BYTES) {
    throw new InvalidInputError(`data must serialize to at most ${MAX_DATA_BYTES} bytes`, 'data');
  }
}

/** Check index values. */
export function checkIndexes(index: unknown): void {
  if (index === undefined) return;
  if (typeof index !== 'object' || index === null)
    throw new InvalidInputError('index must be an object', 'index');
  const entries = Object.entries(index);
  if (entries.length > MAX_INDEXES) {
    throw new InvalidInputError(`a record carries at most ${MAX_INDEXES} index values`, 'index');
  }
  for (const [k, v] of entries) {
    checkIndexName(k);
    checkIndexValue(v);
  }
}

/** Check a whole record input; returns its partition. */
export function checkRecordInput(record: RecordInput): string {
  const partition = checkRef(record);
  checkData(record.data);
  checkExpiry(record.expiresAt);
  checkIndexes(record.index);
  return partition;
}

function checkFieldCondition(c: FieldCondition): void {
  if (typeof c !== 'object' || c === null)
    throw new InvalidInputError('condition must be an object', 'where');
  // A condition built per call (one holding a hash, say) is not frozen: checked, never remembered.
  if (!Object.isFrozen(c)) {
    checkFieldConditionShape(c);
    return;
  }
  if (checked.has(c)) return;
  checkFieldConditionShape(c);
  remember(c);
}

function checkFieldConditionShape(c: FieldCondition): void {
  checkField(c.field);
  if (!FIELD_OPS.has(c.op))
    throw new InvalidInputError(`unknown condition op ${String(c.op)}`, 'where');
  if (c.op === 'exists' || c.op === 'absent') return;
  const v = (c as { value: unknown }).value;
  if (c.op === 'contains') {
    if (typeof v !== 'string') throw new InvalidInputError('contains takes a string', 'where');
    return;
  }
  if (c.op === 'eq' || c.op === 'ne') {
    if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw new InvalidInputError('eq/ne take a string, number, boolean or null', 'where');
    }
    if (typeof v === 'number' && !Number.isFinite(v))
      throw new InvalidInputError('numbers must be finite', 'where');
    return;
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new InvalidInputError(`${c.op} takes a finite number`, 'where');
  }
}

/** Check field conditions. */
export function checkFieldConditions(fields: readonly FieldCondition[] | undefined): void {
  if (fields === undefined) return;
  if (!Array.isArray(fields)) throw new InvalidInputError('fields must be an array', 'where');
  for (let i = 0; i < fields.length; i++) checkFieldCondition(fields[i] as FieldCondition);
}

/** Check a `where`. */
export function checkWhere(where: Where | undefined): void {
  if (where === undefined) return;
  if (typeof where !== 'object' || where === null)
    throw new InvalidInputError('where must be an object', 'where');
  if (where.version !== undefined && (!Number.isSafeInteger(where.version) || where.version < 1)) {
    throw new InvalidInputError('where.version must be a positive integer', 'where');
  }
  if (where.liveAt !== undefined) checkNow(where.liveAt);
  checkFieldConditions(where.fields);
}

/** Check a field name of a mutation and that no other part of it names the field too. */
function claim(seen: Set<string>, f: string): void {
  checkField(f);
  if (seen.has(f)) throw new InvalidInputError(`field ${f} appears twice in one mutation`, f);
  seen.add(f);
}

/** Check a mutation. */
export function checkMutation(m: Mutation): void {
  if (typeof m !== 'object' || m === null)
    throw new InvalidInputError('mutation must be an object', 'mutation');
  if (checked.has(m)) return;
  checkMutationShape(m);
  remember(m);
}

function checkMutationShape(m: Mutation): void {
  const seen = new Set<string>();
  if (m.set !== undefined) {
    checkData(m.set);
    for (const f of Object.keys(m.set)) claim(seen, f);
  }
  if (m.inc !== undefined) {
    for (const [f, n] of Object.entries(m.inc)) {
      claim(seen, f);
      if (typeof n !== 'number' || !Number.isFinite(n))
        throw new InvalidInputError('inc takes finite numbers', f);
    }
  }
  for (const f of m.unset ?? []) claim(seen, f);
  for (const group of [m.add, m.remove]) {
    if (group === undefined) continue;
    for (const [f, items] of Object.entries(group)) {
      claim(seen, f);
      if (!Array.isArray(items) || items.some((i) => typeof i !== 'string')) {
        throw new InvalidInputError('add/remove take arrays of strings', f);
      }
    }
  }
  if (m.expiresAt !== undefined) checkExpiry(m.expiresAt);
  if (m.index !== undefined) {
    for (const [k, v] of Object.entries(m.index)) {
      checkIndexName(k);
      if (v !== null) checkIndexValue(v);
    }
  }
}

/** Check and default a page size. */
export function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new InvalidInputError(`limit must be an integer in 1..${MAX_LIMIT}`, 'limit');
  }
  return limit;
}

const PUT_MODES = new Set(['insert', 'upsert', 'replace']);
const OP_TYPES = new Set(['put', 'update', 'delete', 'check']);

/**
 * Check a transaction's ops as every store must, before touching the backend:
 * 1..{@link MAX_TRANSACT_OPS} well-formed ops, each record addressed once, and
 * (with `samePartition`) one partition.
 * @returns each op's partition, in op order
 * @throws InvalidInputError for anything else
 */
export function checkTransactOps(ops: readonly TransactOp[], samePartition = true): string[] {
  if (!Array.isArray(ops) || ops.length === 0 || ops.length > MAX_TRANSACT_OPS) {
    throw new InvalidInputError(`transact takes 1..${MAX_TRANSACT_OPS} ops`, 'ops');
  }
  const seen = new Set<string>();
  const partitions: string[] = [];
  for (const op of ops) {
    if (typeof op !== 'object' || op === null || !OP_TYPES.has(op.type)) {
      throw new InvalidInputError('unknown transact op type', 'ops');
    }
    const ref = op.type === 'put' ? op.record : op.ref;
    partitions.push(op.type === 'put' ? checkRecordInput(op.record) : checkRef(ref));
    const id = `${ref.collection}\u0000${ref.key}`;
    if (seen.has(id))
      throw new InvalidInputError('a transaction may address each record once', 'ops');
    seen.add(id);
    checkWhere(op.where);
    if (op.type === 'put' && !PUT_MODES.has(op.mode)) {
      throw new InvalidInputError('mode must be insert, upsert or replace', 'mode');
    }
    if (op.type === 'update') {
      checkMutation(op.mutation);
      if (op.orCreate !== undefined)
        checkRecordInput({ ...op.orCreate, collection: 'x', key: 'x' });
    }
  }
  if (samePartition && new Set(partitions).size > 1) {
    throw new InvalidInputError('all ops of a transaction must address one partition', 'ops');
  }
  return partitions;
}

/**
 * Check and default the options of `sweep()`: `[limit, graceMs]`.
 * @throws InvalidInputError for a non-positive `limit` or a negative `graceMs`
 * @example `const [limit, graceMs] = checkSweepOptions({}); // [1000, 0]`
 */
export function checkSweepOptions(
  options: { limit?: number; graceMs?: number } = {},
): [number, number] {
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
