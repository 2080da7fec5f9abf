/**
 * Compile the contract's conditions and mutations to DynamoDB expressions on
 * the generic table's item (data in the Map attribute `d`), with the exact
 * semantics of `stores/shared/semantics.ts`:
 *
 * - `eq`/`ne` are type-strict (`=` on a DynamoDB value compares type and
 *   value); `eq null` holds for a missing or NULL field.
 * - `gt`/`gte`/`lt`/`lte` hold only on numbers: the value is always a number,
 *   and DynamoDB's comparisons are type-strict like `=` (an attribute of
 *   another type, or a missing one, never compares), so `d.f > :n` is the
 *   whole condition.
 * - `exists`/`absent`: present and not NULL / missing or NULL.
 * - `contains`: the field is a List (`attribute_type(.., L)`) with that string.
 * - liveness is `NOT x <= :now`: a record without `x` never expires (the
 *   comparison with a missing attribute is false, as `ne` relies on too).
 *
 * Conditions are flat AND chains with as few function calls and parentheses
 * as the semantics allow: DynamoDB evaluates them the same either way, and
 * emulators with a backtracking expression parser (dynalite) pay for each.
 *
 * A mutation compiles only when DynamoDB can apply it in one UpdateItem with
 * the same result; otherwise {@link compileMutation} returns `null` and the
 * store takes its read-modify-write path (pinned by the write id).
 * @module
 */
import type { FieldCondition, Mutation, Where } from '../contract.js';
import { isNativeJson, toAttr } from './attribute-values.js';
import { and, type Expr } from './expression-text.js';

export { and, Expr } from './expression-text.js';

const typeValue = (e: Expr, t: string) => e.value({ S: t });

/** The condition of one field condition on `d.<field>`. */
export function fieldCondition(e: Expr, c: FieldCondition, dataAttr = 'd'): string {
  const p = e.path(dataAttr, c.field);
  // A function, so that the NULL placeholder exists only when used (DynamoDB rejects unused ones).
  const isNull = () => `attribute_type(${p}, ${typeValue(e, 'NULL')})`;
  switch (c.op) {
    case 'eq':
    case 'ne': {
      const eq =
        c.value === null
          ? `attribute_not_exists(${p}) OR ${isNull()}`
          : `${p} = ${e.value(toAttr(c.value))}`;
      return c.op === 'eq' ? eq : `NOT (${eq})`;
    }
    case 'exists':
      return `attribute_exists(${p}) AND NOT ${isNull()}`;
    case 'absent':
      return `attribute_not_exists(${p}) OR ${isNull()}`;
    case 'contains':
      return `attribute_type(${p}, ${typeValue(e, 'L')}) AND contains(${p}, ${e.value({ S: c.value })})`;
    default: {
      const op = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[c.op];
      return `${p} ${op} ${e.value({ N: String(c.value) })}`;
    }
  }
}

/** Whether a field condition can hold only when its field is in the data Map. */
function needsField(c: FieldCondition): boolean {
  if (c.op === 'eq') return c.value !== null;
  return c.op !== 'ne' && c.op !== 'absent';
}

/**
 * Whether `where` can hold only on an item whose data is the Map `d` (some
 * field condition needs its field present), so `attribute_exists(d)` is implied.
 * @example `impliesDataMap({ fields: [{ field: 'n', op: 'gt', value: 0 }] }) // true`
 */
export function impliesDataMap(where: Where | undefined): boolean {
  return where?.fields?.some(needsField) ?? false;
}

/**
 * Conditions on fields, AND-ed; they also require the data Map (so a `dj`
 * record falls back), explicitly unless a field condition implies it.
 */
export function fieldsCondition(
  e: Expr,
  fields: readonly FieldCondition[] | undefined,
): string | undefined {
  if (fields === undefined || fields.length === 0) return undefined;
  return and([
    fields.some(needsField) ? undefined : `attribute_exists(${e.name('d')})`,
    ...fields.map((c) => fieldCondition(e, c)),
  ]);
}

/** `expiresAt` null or after `now` (without `x`, `x <= :now` is false). */
export function liveCondition(e: Expr, now: number): string {
  return `NOT ${e.name('x')} <= ${e.value({ N: String(now) })}`;
}

/** A whole `where` on an existing item (existence is the caller's part). */
export function whereCondition(e: Expr, where: Where | undefined): string | undefined {
  if (where === undefined) return undefined;
  return and([
    where.version === undefined
      ? undefined
      : `${e.name('v')} = ${e.value({ N: String(where.version) })}`,
    where.liveAt === undefined ? undefined : liveCondition(e, where.liveAt),
    fieldsCondition(e, where.fields),
  ]);
}

/** The parts of a compiled mutation. */
export interface CompiledMutation {
  /** `SET` actions. */
  readonly set: string[];
  /** `REMOVE` actions. */
  readonly remove: string[];
  /** Conditions that make DynamoDB's result equal the reference result (types). */
  readonly guards: string[];
}

const NO_FIELDS: ReadonlySet<string> = new Set();

/**
 * The fields a `where` requires to hold numbers (those with a `gt`, `gte`,
 * `lt` or `lte` condition), for {@link compileMutation}.
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

/** Most items an `add` compiles natively (each needs a `NOT contains` guard). */
const MAX_NATIVE_ADD_ITEMS = 20;

/**
 * Compile the data and expiry parts of a mutation (not the version and write
 * id, which the caller adds). Returns `null` when DynamoDB cannot apply it with
 * the reference result in one step: index changes, `remove`, a value with no
 * native form, a non-integer `inc`, or a large `add`.
 *
 * @param ttlSeconds - maps an expiry (ms) to the TTL attribute value
 * @param numbers - fields the rest of the condition already requires to be
 *   numbers (a `gt`/`gte`/`lt`/`lte` of the same request's `where`): an `inc`
 *   on them needs no type guard of its own
 */
export function compileMutation(
  e: Expr,
  m: Mutation,
  ttlSeconds: (expiresAt: number) => number,
  numbers: ReadonlySet<string> = NO_FIELDS,
): CompiledMutation | null {
  if (m.index !== undefined && Object.keys(m.index).length > 0) return null;
  if (m.remove !== undefined && Object.keys(m.remove).length > 0) return null;
  const set: string[] = [];
  const remove: string[] = [];
  const guards: string[] = [];
  for (const [f, v] of Object.entries(m.set ?? {})) {
    if (!isNativeJson(v, 1)) return null;
    set.push(`${e.path('d', f)} = ${e.value(toAttr(v))}`);
  }
  for (const [f, n] of Object.entries(m.inc ?? {})) {
    if (!Number.isSafeInteger(n)) return null;
    const p = e.path('d', f);
    // A NULL field counts as 0 in the reference; DynamoDB cannot add to NULL,
    // so the guard sends that (rare) case down the read-modify-write path.
    if (numbers.has(f)) {
      set.push(`${p} = ${p} + ${e.value({ N: String(n) })}`);
      continue;
    }
    guards.push(`attribute_not_exists(${p}) OR attribute_type(${p}, ${typeValue(e, 'N')})`);
    set.push(`${p} = if_not_exists(${p}, ${e.value({ N: '0' })}) + ${e.value({ N: String(n) })}`);
  }
  for (const f of m.unset ?? []) remove.push(e.path('d', f));
  for (const [f, items] of Object.entries(m.add ?? {})) {
    const unique = [...new Set(items)];
    if (unique.length > MAX_NATIVE_ADD_ITEMS || !unique.every((i) => isNativeJson(i, 2))) {
      return null;
    }
    const p = e.path('d', f);
    const none = unique.map((i) => `NOT contains(${p}, ${e.value({ S: i })})`);
    // Native only when none of the items is there yet (so appending keeps the
    // reference's set-union order); otherwise read-modify-write.
    guards.push(
      `attribute_not_exists(${p}) OR (${and([`attribute_type(${p}, ${typeValue(e, 'L')})`, ...none])})`,
    );
    const empty = e.value({ L: [] });
    set.push(
      unique.length === 0
        ? `${p} = if_not_exists(${p}, ${empty})`
        : `${p} = list_append(if_not_exists(${p}, ${empty}), ${e.value({ L: unique.map((i) => ({ S: i })) })})`,
    );
  }
  if (m.expiresAt !== undefined) {
    if (m.expiresAt === null) {
      remove.push(e.name('x'), e.name('ttl'));
    } else {
      set.push(`${e.name('x')} = ${e.value({ N: String(m.expiresAt) })}`);
      set.push(`${e.name('ttl')} = ${e.value({ N: String(ttlSeconds(m.expiresAt)) })}`);
    }
  }
  return { set, remove, guards };
}

/** Join SET and REMOVE actions into an UpdateExpression. */
export function updateExpression(set: readonly string[], remove: readonly string[]): string {
  const parts: string[] = [];
  if (set.length > 0) parts.push(`SET ${set.join(', ')}`);
  if (remove.length > 0) parts.push(`REMOVE ${remove.join(', ')}`);
  return parts.join(' ');
}
