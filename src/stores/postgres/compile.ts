/**
 * Compiles the contract's conditions and mutations into PostgreSQL expressions
 * over the `data` (jsonb), `idx` (jsonb), `version` and `expires_at` columns,
 * so that an `update` is one `UPDATE ... WHERE ... RETURNING` statement. The
 * expressions reproduce `src/stores/shared/semantics.ts` exactly:
 * - `eq`/`ne` compare jsonb scalars by type and value, a missing field as JSON `null`;
 * - `gt`/`gte`/`lt`/`lte` hold only for a JSON number (guarded by `CASE`, so a
 *   string is never cast);
 * - `contains` holds only for an array with that string as a top-level element;
 * - `inc` adds in float8 (IEEE double, as JavaScript does);
 * - `add` appends the missing items in order; `remove` filters strings out of
 *   an array and leaves a missing or null field as it is.
 *
 * Field names are inlined as SQL string literals: they are checked against
 * `/^[A-Za-z_][A-Za-z0-9_]{0,63}$/` before compilation, so they cannot quote
 * out. Every value is a bound parameter.
 * @module
 */
import type { FieldCondition, Mutation, Where } from '../contract.js';

/** Positional parameters of one statement. */
export class Params {
  readonly values: unknown[] = [];

  /** Bind `value` and return its placeholder, with a cast when given (`$3::jsonb`). */
  add(value: unknown, cast?: string): string {
    this.values.push(value);
    const placeholder = `$${this.values.length}`;
    return cast === undefined ? placeholder : `${placeholder}::${cast}`;
  }
}

/** `<col>->'<field>'`: the jsonb value of a top-level field, SQL NULL when missing. */
function field(col: string, name: string): string {
  return `${col}->'${name}'`;
}

const COMPARE: Record<string, string> = { gt: '>', gte: '>=', lt: '<', lte: '<=' };

/**
 * Compile one field condition to a boolean expression that is never NULL.
 * @param col - the jsonb column holding the record's data (`data`, `r.data`)
 * @example `compileField({ field: 'n', op: 'gt', value: 0 }, p) // CASE WHEN jsonb_typeof(data->'n') ...`
 */
export function compileField(c: FieldCondition, p: Params, col = 'data'): string {
  const f = field(col, c.field);
  switch (c.op) {
    case 'eq':
      return `coalesce(${f}, 'null'::jsonb) = ${p.add(JSON.stringify(c.value), 'jsonb')}`;
    case 'ne':
      return `coalesce(${f}, 'null'::jsonb) <> ${p.add(JSON.stringify(c.value), 'jsonb')}`;
    case 'exists':
      return `coalesce(jsonb_typeof(${f}), 'null') <> 'null'`;
    case 'absent':
      return `coalesce(jsonb_typeof(${f}), 'null') = 'null'`;
    case 'contains':
      return `CASE WHEN jsonb_typeof(${f}) = 'array' THEN ${f} @> jsonb_build_array(${p.add(c.value, 'text')}) ELSE false END`;
    default: {
      const op = COMPARE[c.op];
      return `CASE WHEN jsonb_typeof(${f}) = 'number' THEN (${f})::numeric ${op} ${p.add(c.value, 'numeric')} ELSE false END`;
    }
  }
}

/**
 * Compile a `where` to a list of conditions (to be joined with AND).
 * @param alias - table alias prefix for the columns (`'r.'` or `''`)
 * @example `compileWhere({ version: 3, liveAt: now }, p) // ['version = $1::bigint', '(expires_at IS NULL OR ...)']`
 */
export function compileWhere(where: Where | undefined, p: Params, alias = ''): string[] {
  if (where === undefined) return [];
  const out: string[] = [];
  if (where.version !== undefined) out.push(`${alias}version = ${p.add(where.version, 'bigint')}`);
  if (where.liveAt !== undefined) out.push(liveAt(p.add(where.liveAt, 'bigint'), alias));
  for (const c of where.fields ?? []) out.push(compileField(c, p, `${alias}data`));
  return out;
}

/** `expires_at` is null or after the bound time. */
export function liveAt(placeholder: string, alias = ''): string {
  return `(${alias}expires_at IS NULL OR ${alias}expires_at > ${placeholder})`;
}

/** The SET clauses of a mutation, and the conditions under which it applies. */
export interface CompiledMutation {
  /** `column = expression` items, `version = version + 1` included. */
  readonly set: string[];
  /**
   * Conditions without which the mutation would throw in the reference
   * semantics (`inc` on a non-number, `add`/`remove` on a non-array). The
   * store puts them in the WHERE clause and, when no row is updated, lets the
   * reference semantics throw the `InvalidInputError`.
   */
  readonly guards: string[];
}

/** Most key/value pairs in one `jsonb_build_object` call (PostgreSQL allows 100 arguments). */
const PAIRS_PER_OBJECT = 50;

function typeIn(col: string, name: string, types: string): string {
  return `coalesce(jsonb_typeof(${field(col, name)}), 'null') IN (${types})`;
}

/** Items in order, each once. */
function uniqueItems(items: readonly string[]): string[] {
  return [...new Set(items)];
}

const NO_FIELDS: ReadonlySet<string> = new Set();

/**
 * The fields a `where` requires to hold JSON numbers (those with a `gt`,
 * `gte`, `lt` or `lte` condition), for {@link compileMutation}.
 * @example `numericFields({ fields: [{ field: 'n', op: 'gt', value: 0 }] }) // Set { 'n' }`
 */
export function numericFields(where: Where | undefined): ReadonlySet<string> {
  const fields = where?.fields;
  if (fields === undefined || fields.length === 0) return NO_FIELDS;
  const out = new Set<string>();
  for (const c of fields) {
    if (c.op === 'gt' || c.op === 'gte' || c.op === 'lt' || c.op === 'lte') out.add(c.field);
  }
  return out;
}

/**
 * Compile a (validated) mutation into SET clauses over the current row.
 * Fields of `set`, `inc`, `unset`, `add` and `remove` are disjoint (validation
 * guarantees it), so each expression reads the original `data` column.
 * @param numbers - fields the statement's WHERE already requires to be JSON
 *   numbers: an `inc` on them needs neither a type guard nor a `CASE`
 * @example `compileMutation({ inc: { uses: -1 } }, p).set // ["data = (data || jsonb_build_object('uses', ...))", 'version = version + 1']`
 */
export function compileMutation(
  m: Mutation,
  p: Params,
  numbers: ReadonlySet<string> = NO_FIELDS,
): CompiledMutation {
  const set: string[] = [];
  const guards: string[] = [];
  const pairs: string[] = [];
  for (const [name, n] of Object.entries(m.inc ?? {})) {
    const f = field('data', name);
    if (numbers.has(name)) {
      pairs.push(`'${name}', to_jsonb((${f})::float8 + ${p.add(n, 'float8')})`);
      continue;
    }
    guards.push(typeIn('data', name, `'number', 'null'`));
    pairs.push(
      `'${name}', to_jsonb((CASE WHEN jsonb_typeof(${f}) = 'number' THEN (${f})::float8 ELSE 0 END) + ${p.add(n, 'float8')})`,
    );
  }
  for (const [name, items] of Object.entries(m.add ?? {})) {
    const f = field('data', name);
    guards.push(typeIn('data', name, `'array', 'null'`));
    const current = `coalesce(CASE WHEN jsonb_typeof(${f}) = 'array' THEN ${f} END, '[]'::jsonb)`;
    pairs.push(
      `'${name}', ${current} || coalesce((SELECT jsonb_agg(to_jsonb(u.x) ORDER BY u.o) FROM unnest(${p.add(uniqueItems(items), 'text[]')}) WITH ORDINALITY AS u(x, o) WHERE NOT ${current} @> jsonb_build_array(u.x)), '[]'::jsonb)`,
    );
  }
  const parts: string[] = ['data'];
  if (m.set !== undefined && Object.keys(m.set).length > 0) {
    parts.push(p.add(JSON.stringify(m.set), 'jsonb'));
  }
  for (let i = 0; i < pairs.length; i += PAIRS_PER_OBJECT) {
    parts.push(`jsonb_build_object(${pairs.slice(i, i + PAIRS_PER_OBJECT).join(', ')})`);
  }
  for (const [name, items] of Object.entries(m.remove ?? {})) {
    const f = field('data', name);
    guards.push(typeIn('data', name, `'array', 'null'`));
    parts.push(
      `(CASE WHEN jsonb_typeof(${f}) = 'array' THEN jsonb_build_object('${name}', coalesce((SELECT jsonb_agg(a.e ORDER BY a.o) FROM jsonb_array_elements(${f}) WITH ORDINALITY AS a(e, o) WHERE NOT (jsonb_typeof(a.e) = 'string' AND (a.e #>> '{}') = ANY(${p.add(uniqueItems(items), 'text[]')}))), '[]'::jsonb)) ELSE '{}'::jsonb END)`,
    );
  }
  let data = parts.length === 1 ? 'data' : `(${parts.join(' || ')})`;
  if (m.unset !== undefined && m.unset.length > 0) {
    data = `(${data} - ${p.add([...m.unset], 'text[]')})`;
  }
  if (data !== 'data') set.push(`data = ${data}`);
  if (m.expiresAt !== undefined) set.push(`expires_at = ${p.add(m.expiresAt, 'bigint')}`);
  if (m.index !== undefined) {
    const removed = Object.keys(m.index).filter((k) => m.index?.[k] === null);
    const added = Object.fromEntries(Object.entries(m.index).filter(([, v]) => v !== null));
    let idx = 'idx';
    if (removed.length > 0) idx = `(${idx} - ${p.add(removed, 'text[]')})`;
    if (Object.keys(added).length > 0) idx = `(${idx} || ${p.add(JSON.stringify(added), 'jsonb')})`;
    if (idx !== 'idx') set.push(`idx = ${idx}`);
  }
  set.push('version = version + 1');
  return { set, guards };
}
