/**
 * The SQLite fast path of `update`: one `UPDATE ... RETURNING` statement,
 * compiled from the mutation and its conditions, for the common shapes (set
 * strings, booleans, null and safe integers; inc by safe integers on integer
 * fields; a new expiry; conditions on version, liveness and scalar fields).
 *
 * A compiled statement is sound, not complete: when it updates a row, the
 * reference semantics ({@link matchesWhere}, {@link applyMutation}) would have
 * made the same change; when it updates nothing (a condition failed, or the
 * record holds a value outside the translated subset, such as a real number),
 * the caller runs the general path, which decides and reports `current`. One
 * statement in autocommit is atomic across connections, like the general
 * path's `BEGIN IMMEDIATE` transaction.
 *
 * The property tests in `test/stores/sqlite/fast-update.test.ts` hold it to
 * the reference semantics.
 * @module
 */
import type Database from 'better-sqlite3';
import type {
  FieldCondition,
  Json,
  Mutation,
  RecordRef,
  UpdateOptions,
  UpdateResult,
} from '../contract.js';
import type { TableNames } from './schema.js';
import { type RecordRow, rowToRecord } from './statements.js';

type SqlValue = string | number | null;

/** Prepared statements kept at most (a cache of shapes, cleared when full). */
const MAX_SHAPES = 64;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Runs an update in one statement when its shape allows. */
export interface FastUpdater {
  /**
   * The update's result when the statement changed the record, else
   * `undefined` (run the general path). Arguments must be checked already.
   */
  update(
    ref: RecordRef,
    partition: string,
    mutation: Mutation,
    options: UpdateOptions | undefined,
  ): UpdateResult | undefined;
}

const path = (field: string) => `'$.${field}'`;
const jt = (field: string) => `json_type(data, ${path(field)})`;
const je = (field: string) => `json_extract(data, ${path(field)})`;

/** The shape letter of a value `set` may take, or undefined outside the subset. */
function setKind(v: Json | undefined): string | undefined {
  if (typeof v === 'string') return 's';
  if (v === null) return 'z';
  if (v === true) return 't';
  if (v === false) return 'f';
  if (typeof v === 'number' && Number.isSafeInteger(v)) return 'i';
  return undefined;
}

/**
 * The shape letter of a condition's value, or undefined outside the subset.
 * `S` is a string that cannot read as a JSON array or object, which
 * `json_extract` alone compares exactly.
 */
function conditionKind(c: FieldCondition): string | undefined {
  switch (c.op) {
    case 'exists':
    case 'absent':
      return '';
    case 'contains':
      return undefined;
    case 'eq':
    case 'ne': {
      const kind = setKind(c.value);
      return kind === 's' && !/^[[{]/.test(c.value as string) ? 'S' : kind;
    }
    default:
      return typeof c.value === 'number' && Number.isSafeInteger(c.value) ? 'i' : undefined;
  }
}

/** Whether a condition of this shape holds only for an integer field. */
function impliesInteger(c: FieldCondition, kind: string): boolean {
  return kind === 'i' && c.op !== 'ne';
}

/** SQL of one condition (never NULL), exactly `matchesField` or, for numbers, implying it. */
function conditionSql(c: FieldCondition, kind: string): string {
  const t = jt(c.field);
  const e = je(c.field);
  const isNull = `(${t} IS NULL OR ${t} = 'null')`;
  let eq: string;
  switch (kind) {
    case 'S':
      // json_extract gives TEXT for a JSON string, a number or NULL for scalars, and
      // JSON text (starting with [ or {) for arrays and objects: equal only to the string.
      eq = `(${e} IS ?)`;
      break;
    case 's':
      eq = `(${t} IS 'text' AND ${e} IS ?)`;
      break;
    case 'z':
      eq = isNull;
      break;
    case 't':
      eq = `(${t} IS 'true')`;
      break;
    case 'f':
      eq = `(${t} IS 'false')`;
      break;
    default:
      eq = `(${t} IS 'integer' AND ${e} = ?)`;
  }
  switch (c.op) {
    case 'eq':
      return eq;
    case 'ne':
      // A real number might equal the value: leave that to the general path.
      return kind === 'i'
        ? `(COALESCE(${t}, 'null') NOT IN ('integer', 'real') OR (${t} IS 'integer' AND ${e} <> ?))`
        : `NOT ${eq}`;
    case 'exists':
      return `NOT ${isNull}`;
    case 'absent':
      return isNull;
    case 'gt':
      return `(${t} IS 'integer' AND ${e} > ?)`;
    case 'gte':
      return `(${t} IS 'integer' AND ${e} >= ?)`;
    case 'lt':
      return `(${t} IS 'integer' AND ${e} < ?)`;
    default:
      return `(${t} IS 'integer' AND ${e} <= ?)`;
  }
}

/**
 * Walk an update once: its shape signature and its parameters in statement
 * order, or undefined when it is outside the subset.
 */
function describe(
  ref: RecordRef,
  partition: string,
  m: Mutation,
  options: UpdateOptions | undefined,
): { shape: string; params: SqlValue[] } | undefined {
  if (
    options?.orCreate !== undefined ||
    m.unset !== undefined ||
    m.add !== undefined ||
    m.remove !== undefined ||
    m.index !== undefined
  ) {
    return undefined;
  }
  let shape = '';
  // Parameters in statement order: SET values, then the WHERE clause, then inc bounds.
  const params: SqlValue[] = [];
  const bounds: SqlValue[] = [];
  if (m.set !== undefined) {
    for (const f of Object.keys(m.set)) {
      const v = m.set[f];
      const kind = setKind(v);
      if (kind === undefined) return undefined;
      if (f === '__proto__') return undefined;
      shape += `s:${kind}:${f},`;
      if (kind === 's' || kind === 'i') params.push(v as string | number);
    }
  }
  if (m.inc !== undefined) {
    for (const f of Object.keys(m.inc)) {
      const d = m.inc[f] as number;
      if (!Number.isSafeInteger(d) || f === '__proto__') return undefined;
      shape += `i:${f},`;
      params.push(d);
      // Both the current value and the sum must stay safe integers.
      bounds.push(Math.max(-MAX_SAFE, -MAX_SAFE - d), Math.min(MAX_SAFE, MAX_SAFE - d));
    }
  }
  if (m.expiresAt !== undefined) {
    shape += 'e,';
    params.push(m.expiresAt);
  }
  params.push(ref.collection, ref.key, partition);
  const w = options?.where;
  if (w?.version !== undefined) {
    shape += 'v,';
    params.push(w.version);
  }
  if (w?.liveAt !== undefined) {
    shape += 'l,';
    params.push(w.liveAt);
  }
  const fields = w?.fields;
  if (fields !== undefined) {
    for (let i = 0; i < fields.length; i++) {
      const c = fields[i] as FieldCondition;
      const kind = conditionKind(c);
      if (kind === undefined || c.field === '__proto__') return undefined;
      shape += `c:${c.op}:${kind}:${c.field},`;
      if (kind === 's' || kind === 'S' || kind === 'i') {
        params.push((c as { value: string | number }).value);
      }
    }
  }
  for (const b of bounds) params.push(b);
  return { shape, params };
}

/** The statement of a shape, built from the update that first had it. */
function statementSql(t: TableNames, m: Mutation, options: UpdateOptions | undefined): string {
  const pairs: string[] = [];
  const guards: string[] = [];
  for (const f of Object.keys(m.set ?? {})) {
    const kind = setKind((m.set as Record<string, Json>)[f]);
    const value =
      kind === 's'
        ? '?'
        : kind === 'i'
          ? 'CAST(? AS INTEGER)'
          : kind === 't'
            ? "json('true')"
            : kind === 'f'
              ? "json('false')"
              : 'NULL';
    pairs.push(`${path(f)}, ${value}`);
  }
  const w = options?.where;
  const integers = new Set<string>();
  for (const c of w?.fields ?? []) {
    if (impliesInteger(c, conditionKind(c) as string)) integers.add(c.field);
  }
  for (const f of Object.keys(m.inc ?? {})) {
    const sum = `COALESCE(${je(f)}, 0) + CAST(? AS INTEGER)`;
    pairs.push(`${path(f)}, ${sum}`);
    // inc needs a number (or nothing); a condition may already require an integer.
    if (!integers.has(f)) guards.push(`(${jt(f)} IS NULL OR ${jt(f)} IN ('null', 'integer'))`);
    // JavaScript reads integers beyond 2^53 rounded: leave those to the general path.
    guards.push(`COALESCE(${je(f)}, 0) BETWEEN ? AND ?`);
  }
  const sets = ['version = version + 1'];
  if (pairs.length > 0) sets.unshift(`data = json_set(data, ${pairs.join(', ')})`);
  if (m.expiresAt !== undefined) sets.push('expires_at = CAST(? AS INTEGER)');
  const conds = ['collection = ?', 'key = ?', 'partition = ?'];
  if (w?.version !== undefined) conds.push('version = ?');
  if (w?.liveAt !== undefined) conds.push('(expires_at IS NULL OR expires_at > ?)');
  for (const c of w?.fields ?? []) conds.push(conditionSql(c, conditionKind(c) as string));
  conds.push(...guards);
  return `UPDATE ${t.records} SET ${sets.join(', ')} WHERE ${conds.join(' AND ')}
    RETURNING data, idx, version, expires_at`;
}

/**
 * Create the fast updater of one store (statements prepared per shape, on first use).
 * @example `const fast = createFastUpdater(db, tableNames('tessera_'));`
 */
export function createFastUpdater(db: Database.Database, t: TableNames): FastUpdater {
  type Returned = Omit<RecordRow, 'collection' | 'key' | 'partition'>;
  const statements = new Map<string, Database.Statement<[SqlValue[]], Returned>>();
  return {
    update(ref, partition, mutation, options) {
      const d = describe(ref, partition, mutation, options);
      if (d === undefined) return undefined;
      let stmt = statements.get(d.shape);
      if (stmt === undefined) {
        if (statements.size >= MAX_SHAPES) statements.clear();
        stmt = db.prepare<[SqlValue[]], Returned>(statementSql(t, mutation, options));
        statements.set(d.shape, stmt);
      }
      const row = stmt.get(d.params);
      if (row === undefined) return undefined;
      const record = rowToRecord({
        collection: ref.collection,
        key: ref.key,
        partition,
        data: row.data,
        idx: row.idx,
        version: row.version,
        expires_at: row.expires_at,
      });
      return { ok: true, record, created: false };
    },
  };
}
