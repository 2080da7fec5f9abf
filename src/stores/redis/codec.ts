/**
 * Translation between the store contract and what the write script reads and
 * returns: ops as a flat list of ARGV tokens (data values as JSON texts) and
 * records as flat field/value lists. The grammar, per op:
 * - `put k incarnation mode WHERE INPUT`
 * - `update k incarnation WHERE hasCreate(0|1) [INPUT] MUTATION`
 * - `delete k WHERE`, `check k absent(0|1) WHERE`, `expire k cutoff`
 * where `k` is the op's index in KEYS (from 1).
 * @module
 */
import { StoreError } from '../../core/errors.js';
import type {
  IndexValues,
  Json,
  JsonObject,
  Mutation,
  RecordInput,
  StoredRecord,
  Where,
} from '../contract.js';

/** Append a where: `version ('' for none) liveAt ('' for none) n { field op raw isnum }*n`. */
export function whereTokens(out: string[], where: Where | undefined): void {
  const fields = where?.fields ?? [];
  out.push(
    where?.version === undefined ? '' : String(where.version),
    where?.liveAt === undefined ? '' : String(where.liveAt),
    String(fields.length),
  );
  for (const c of fields) {
    if (c.op === 'exists' || c.op === 'absent') {
      out.push(c.field, c.op, '', '0');
    } else {
      const value = (c as { value: Json }).value;
      out.push(c.field, c.op, JSON.stringify(value), typeof value === 'number' ? '1' : '0');
    }
  }
}

/** Append a record input: `expiresAt (-1 for none) n { field raw }*n m { name value }*m`. */
export function inputTokens(
  out: string[],
  input: Pick<RecordInput, 'data' | 'expiresAt' | 'index'>,
): void {
  out.push(input.expiresAt === null ? '-1' : String(input.expiresAt));
  const data = Object.entries(input.data);
  out.push(String(data.length));
  for (const [k, v] of data) out.push(k, JSON.stringify(v));
  const index = Object.entries(input.index ?? {});
  out.push(String(index.length));
  for (const [k, v] of index) out.push(k, v);
}

/**
 * Append a mutation: set, inc, unset, add and remove groups (each a count, then
 * its items; array items as JSON texts, compared raw in Lua), the expiry
 * (`''` unchanged, `-1` none) and index changes (`''` removes a value).
 */
export function mutationTokens(out: string[], m: Mutation): void {
  const set = Object.entries(m.set ?? {});
  out.push(String(set.length));
  for (const [k, v] of set) out.push(k, JSON.stringify(v));
  const inc = Object.entries(m.inc ?? {});
  out.push(String(inc.length));
  for (const [k, n] of inc) out.push(k, String(n));
  const unset = m.unset ?? [];
  out.push(String(unset.length), ...unset);
  for (const group of [m.add, m.remove]) {
    const entries = Object.entries(group ?? {});
    out.push(String(entries.length));
    for (const [k, items] of entries) {
      out.push(k, String(items.length));
      for (const i of items) out.push(JSON.stringify(i));
    }
  }
  out.push(m.expiresAt === undefined ? '' : m.expiresAt === null ? '-1' : String(m.expiresAt));
  const index = Object.entries(m.index ?? {});
  out.push(String(index.length));
  for (const [k, v] of index) out.push(k, v ?? '');
}

/** The write script's answer, as flat field/value token lists. */
export type WriteTokens =
  | {
      readonly ok: true;
      /** Per op: the record before (as read) and after (empty lists: no record). */
      readonly ops: ReadonlyArray<{ before: string[]; after: string[] }>;
      /** Index values records lost (single-server script): `name value incarnation version op` tokens. */
      readonly lost: readonly string[];
    }
  | { readonly ok: false; readonly index: number; readonly current: string[] }
  /** The write reached Redis after its deadline and did not run (Redis's time, ms). */
  | { readonly ok: 'late'; readonly serverMs: number };

/** Overlay fields set and removed on a flat field/value list. */
function patch(before: readonly string[], sets: readonly string[], dels: readonly string[]) {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < before.length; i += 2)
    m.set(before[i] as string, before[i + 1] as string);
  for (let i = 0; i + 1 < sets.length; i += 2) m.set(sets[i] as string, sets[i + 1] as string);
  for (const f of dels) m.delete(f);
  const out: string[] = [];
  for (const [f, v] of m) out.push(f, v);
  return out;
}

/**
 * Split the write script's NUL-joined answer. The record after each op is
 * rebuilt from what the script read and the exact values it wrote.
 * @throws StoreError for an answer this store did not produce
 */
export function parseWriteReply(reply: unknown): WriteTokens {
  if (typeof reply !== 'string') throw new StoreError('Redis store: unexpected script reply');
  const t = reply.split('\u0000');
  let pos = 1;
  const bad = () => new StoreError('Redis store: malformed script reply');
  const take = (): string[] => {
    const n = Number(t[pos]);
    if (!Number.isSafeInteger(n) || n < 0 || pos + 1 + n > t.length) throw bad();
    const out = t.slice(pos + 1, pos + 1 + n);
    pos += 1 + n;
    return out;
  };
  if (t[0] === 'fail') {
    const index = Number(t[1]);
    pos = 2;
    return { ok: false, index, current: take() };
  }
  if (t[0] === 'late') {
    const serverMs = Number(t[1]);
    if (!Number.isSafeInteger(serverMs) || t.length !== 2) throw bad();
    return { ok: 'late', serverMs };
  }
  if (t[0] !== 'ok') throw bad();
  const ops: Array<{ before: string[]; after: string[] }> = [];
  let lost: string[] = [];
  while (pos < t.length) {
    if (t[pos] === 'L') {
      pos++;
      lost = take();
      if (pos !== t.length) throw bad();
      break;
    }
    const before = take();
    const mode = t[pos++];
    if (mode === 'D') ops.push({ before, after: [] });
    else if (mode === 'S') ops.push({ before, after: before });
    else if (mode === 'W') ops.push({ before, after: take() });
    else if (mode === 'P') {
      const sets = take();
      ops.push({ before, after: patch(before, sets, take()) });
    } else throw bad();
  }
  return { ok: true, ops, lost };
}

/** Metadata of a record, as the write script reports a record before its write. */
export interface RecordMeta {
  readonly version: number;
  readonly incarnation: string;
  readonly expiresAt: number | null;
  readonly index: IndexValues;
}

function malformed(what: string, cause?: unknown): StoreError {
  return new StoreError(`Redis store: malformed record (${what})`, { cause });
}

function parseInteger(raw: string, what: string): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw malformed(`${what} is not an integer`);
  return n;
}

/**
 * Parse a flat field/value list (HGETALL or a script reply) into metadata and
 * data (left empty with `metaOnly`). Returns null for an empty list (no record).
 * @throws StoreError for a hash that is not a record of this store
 */
export function parseFlat(
  flat: readonly string[],
  metaOnly = false,
): (RecordMeta & { data: JsonObject }) | null {
  if (flat.length === 0) return null;
  let version: number | undefined;
  let incarnation: string | undefined;
  let expiresAt: number | null = null;
  let index: Record<string, string> | null = null;
  const data: JsonObject = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const f = flat[i] as string;
    const v = flat[i + 1] as string;
    if (f.startsWith('#')) {
      if (f === '#v') version = parseInteger(v, 'version');
      else if (f === '#n') incarnation = v;
      else if (f === '#e') expiresAt = parseInteger(v, 'expiresAt');
      else if (f.startsWith('#i:')) {
        if (index === null) index = {};
        index[f.slice(3)] = v;
      }
    } else if (!metaOnly) {
      try {
        data[f] = JSON.parse(v) as Json;
      } catch (err) {
        throw malformed(`field ${f} is not JSON`, err);
      }
    }
  }
  if (version === undefined || incarnation === undefined) throw malformed('no version');
  return { version, incarnation, expiresAt, index: sortedIndex(index), data };
}

/** Build a stored record from a flat list and its address. */
export function toRecord(
  flat: readonly string[],
  collection: string,
  key: string,
  partition: string,
): StoredRecord | null {
  const p = parseFlat(flat);
  if (p === null) return null;
  return {
    collection,
    key,
    partition,
    data: p.data,
    expiresAt: p.expiresAt,
    index: p.index,
    version: p.version,
  };
}

/**
 * Parse an HGETALL reply as ioredis returns it (an object) into a stored record.
 * @throws StoreError for a hash that is not a record of this store
 */
export function recordFromHash(
  hash: Record<string, string>,
  collection: string,
  key: string,
  partition: string,
): StoredRecord | null {
  let version: number | undefined;
  let incarnation: string | undefined;
  let expiresAt: number | null = null;
  let index: Record<string, string> | null = null;
  const data: JsonObject = {};
  let fields = 0;
  for (const f in hash) {
    fields++;
    const v = hash[f] as string;
    if (f.charCodeAt(0) === 35 /* # */) {
      if (f === '#v') version = parseInteger(v, 'version');
      else if (f === '#n') incarnation = v;
      else if (f === '#e') expiresAt = parseInteger(v, 'expiresAt');
      else if (f.startsWith('#i:')) {
        if (index === null) index = {};
        index[f.slice(3)] = v;
      }
    } else {
      try {
        data[f] = JSON.parse(v) as Json;
      } catch (err) {
        throw malformed(`field ${f} is not JSON`, err);
      }
    }
  }
  // No field at all: no record (HGETALL of a missing key).
  if (fields === 0) return null;
  if (version === undefined || incarnation === undefined) throw malformed('no version');
  return { collection, key, partition, data, expiresAt, index: sortedIndex(index), version };
}

const NO_INDEX: IndexValues = Object.freeze({});

/** Index values in name order (a fresh object; the shared empty one when there are none). */
function sortedIndex(index: Record<string, string> | null): IndexValues {
  if (index === null) return NO_INDEX;
  const names = Object.keys(index);
  if (names.length === 1) return index;
  const out: Record<string, string> = {};
  for (const name of names.sort()) out[name] = index[name] as string;
  return out;
}
