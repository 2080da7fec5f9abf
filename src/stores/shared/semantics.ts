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
  if (where === undefined) return true;
  if (where.version !== undefined && record.version !== where.version) return false;
  if (where.liveAt !== undefined && !isLive(record, where.liveAt)) return false;
  for (const c of where.fields ?? []) if (!matchesField(record.data, c)) return false;
  return true;
}

/** Build a fresh stored record (version 1) from an input. */
export function materialize(input: RecordInput, partition: string, version = 1): StoredRecord {
  return {
    collection: input.collection,
    key: input.key,
    partition,
    data: structuredClone(input.data),
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
  // A shallow copy: unchanged values are shared with the previous version, which
  // no store mutates in place (the memory store freezes records; others serialize).
  const data: JsonObject = { ...record.data };
  if (m.set) {
    for (const [k, v] of Object.entries(m.set))
      data[k] = typeof v === 'object' && v !== null ? structuredClone(v) : v;
  }
  if (m.inc) {
    for (const [k, n] of Object.entries(m.inc)) {
      const cur = data[k];
      if (cur !== undefined && cur !== null && typeof cur !== 'number') {
        throw new InvalidInputError(`cannot inc non-number field ${k}`, k);
      }
      data[k] = (typeof cur === 'number' ? cur : 0) + n;
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
  let index: Record<string, string> = { ...record.index };
  if (m.index) {
    for (const [k, v] of Object.entries(m.index)) {
      if (v === null) delete index[k];
      else index[k] = v;
    }
    index = Object.fromEntries(Object.entries(index).sort(([a], [b]) => (a < b ? -1 : 1)));
  }
  return {
    ...record,
    data,
    index: index as IndexValues,
    expiresAt: m.expiresAt === undefined ? record.expiresAt : m.expiresAt,
    version: record.version + 1,
  };
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
