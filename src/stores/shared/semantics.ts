/**
 * The reference semantics of conditions and mutations, in plain JavaScript.
 * The memory and SQLite stores apply them directly inside their critical
 * section; other backends translate them to native expressions and are held to
 * the same results by the conformance suite.
 * @module
 */
import { InvalidInputError } from '../../core/errors.js';
import type {
  FieldCondition,
  IndexValues,
  Json,
  JsonObject,
  Mutation,
  RecordInput,
  StoredRecord,
  Where,
} from '../contract.js';
import { isDeepFrozen } from './frozen.js';

/** Whether a record is live at `now` (no expiry, or expiry after `now`). */
export function isLive(record: { expiresAt: number | null }, now: number): boolean {
  return record.expiresAt === null || record.expiresAt > now;
}

function scalarEquals(a: Json | undefined, b: Json): boolean {
  const x = a === undefined ? null : a;
  if (x === null || typeof x !== 'object') return x === b;
  return false;
}

/** Evaluate one field condition against a data object. */
export function matchesField(data: JsonObject, c: FieldCondition): boolean {
  const v = Object.hasOwn(data, c.field) ? data[c.field] : undefined;
  switch (c.op) {
    case 'eq':
      return scalarEquals(v, c.value);
    case 'ne':
      return !scalarEquals(v, c.value);
    case 'exists':
      return v !== undefined && v !== null;
    case 'absent':
      return v === undefined || v === null;
    case 'contains':
      return Array.isArray(v) && v.includes(c.value);
    default: {
      if (typeof v !== 'number' || typeof c.value !== 'number') return false;
      if (c.op === 'gt') return v > c.value;
      if (c.op === 'gte') return v >= c.value;
      if (c.op === 'lt') return v < c.value;
      return v <= c.value;
    }
  }
}

/** Evaluate a whole `where` against an existing record. */
export function matchesWhere(record: StoredRecord, where: Where | undefined): boolean {
  return matchesWhereOf(record.version, record.expiresAt, record.data, where);
}

/** {@link matchesWhere} on a record's parts, for stores that keep them apart. */
export function matchesWhereOf(
  version: number,
  expiresAt: number | null,
  data: JsonObject,
  where: Where | undefined,
): boolean {
  if (where === undefined) return true;
  if (where.version !== undefined && version !== where.version) return false;
  if (where.liveAt !== undefined && expiresAt !== null && expiresAt <= where.liveAt) return false;
  const fields = where.fields;
  if (fields !== undefined) {
    for (let i = 0; i < fields.length; i++) {
      if (!matchesField(data, fields[i] as FieldCondition)) return false;
    }
  }
  return true;
}

/**
 * Build a fresh stored record from an input. Its `data` is the caller's own
 * object when that is deeply frozen (it can never change), else a copy.
 */
export function materialize(input: RecordInput, partition: string, version = 1): StoredRecord {
  return {
    collection: input.collection,
    key: input.key,
    partition,
    data: isDeepFrozen(input.data) ? input.data : structuredClone(input.data),
    expiresAt: input.expiresAt,
    index: { ...(input.index ?? {}) },
    version,
  };
}

/**
 * Apply a mutation to a record, returning the new record (version + 1).
 * @throws InvalidInputError when `inc` targets a non-number or `add`/`remove` a non-array
 */
export function applyMutation(record: StoredRecord, m: Mutation): StoredRecord {
  return {
    collection: record.collection,
    key: record.key,
    partition: record.partition,
    data: mutateData(record.data, m),
    expiresAt: m.expiresAt === undefined ? record.expiresAt : m.expiresAt,
    index: mutateIndex(record.index, m),
    version: record.version + 1,
  };
}

/**
 * The data part of {@link applyMutation}: a new object (the input is never changed).
 * @throws InvalidInputError when `inc` targets a non-number or `add`/`remove` a non-array
 */
export function mutateData(before: JsonObject, m: Mutation): JsonObject {
  // A shallow copy: unchanged values are shared with the previous version, which
  // no store mutates in place (the memory store freezes records; others serialize).
  const data: JsonObject = { ...before };
  const { set, inc } = m;
  if (set) {
    for (const k in set) {
      if (!Object.hasOwn(set, k)) continue;
      const v = set[k] as Json;
      data[k] = typeof v === 'object' && v !== null ? structuredClone(v) : v;
    }
  }
  if (inc) {
    for (const k in inc) {
      if (!Object.hasOwn(inc, k)) continue;
      const cur = data[k];
      if (cur !== undefined && cur !== null && typeof cur !== 'number') {
        throw new InvalidInputError(`cannot inc non-number field ${k}`, k);
      }
      data[k] = (typeof cur === 'number' ? cur : 0) + (inc[k] as number);
    }
  }
  for (const k of m.unset ?? []) delete data[k];
  if (m.add) {
    for (const [k, items] of Object.entries(m.add)) {
      const cur = data[k];
      if (cur !== undefined && cur !== null && !Array.isArray(cur)) {
        throw new InvalidInputError(`cannot add to non-array field ${k}`, k);
      }
      const arr = Array.isArray(cur) ? [...cur] : [];
      for (const i of items) if (!arr.includes(i)) arr.push(i);
      data[k] = arr;
    }
  }
  if (m.remove) {
    for (const [k, items] of Object.entries(m.remove)) {
      const cur = data[k];
      if (cur === undefined || cur === null) continue;
      if (!Array.isArray(cur))
        throw new InvalidInputError(`cannot remove from non-array field ${k}`, k);
      data[k] = cur.filter((i) => typeof i !== 'string' || !items.includes(i));
    }
  }
  return data;
}

/**
 * The index part of {@link applyMutation}: `before` itself when the mutation
 * leaves index values alone, else a new object in key order.
 */
export function mutateIndex(before: IndexValues, m: Mutation): IndexValues {
  if (!m.index) return before;
  const next: Record<string, string> = { ...before };
  for (const [k, v] of Object.entries(m.index)) {
    if (v === null) delete next[k];
    else next[k] = v;
  }
  return Object.fromEntries(Object.entries(next).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Compare keys for list order (code-unit order, as SQL `COLLATE BINARY` and Redis sorted sets do for ASCII). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Encode a list cursor (the last key returned). */
export function encodeCursor(lastKey: string): string {
  return Buffer.from(lastKey, 'utf8').toString('base64url');
}

/**
 * Decode a list cursor.
 * @throws InvalidInputError for a cursor this store did not produce
 */
export function decodeCursor(cursor: string | null | undefined): string | null {
  if (cursor === undefined || cursor === null) return null;
  if (typeof cursor !== 'string' || !/^[A-Za-z0-9_-]{1,1400}$/.test(cursor)) {
    throw new InvalidInputError('invalid cursor', 'cursor');
  }
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (encodeCursor(key) !== cursor) throw new InvalidInputError('invalid cursor', 'cursor');
  return key;
}
