/**
 * Compile the contract's conditions and mutations to DynamoDB expressions on
 * the generic table's item (data in the Map attribute `d`), with the exact
 * semantics of `stores/shared/semantics.ts`:
 *
 * - `eq`/`ne` are type-strict (`=` on a DynamoDB value compares type and
 *   value); `eq null` holds for a missing or NULL field.
 * - `gt`/`gte`/`lt`/`lte` hold only on numbers (`attribute_type(.., N)` first).
 * - `exists`/`absent`: present and not NULL / missing or NULL.
 * - `contains`: the field is a List (`attribute_type(.., L)`) with that string.
 *
 * A mutation compiles only when DynamoDB can apply it in one UpdateItem with
 * the same result; otherwise {@link compileMutation} returns `null` and the
 * store takes its read-modify-write path (pinned by the write id).
 * @module
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { FieldCondition, Mutation, Where } from '../contract.js';
import { type Item, isNativeJson, toAttr } from './attribute-values.js';

/** Placeholders for one request's expressions. */
export class Expr {
  readonly #names = new Map<string, string>();
  readonly #values: Record<string, AttributeValue> = {};
  #valueCount = 0;

  /** Placeholder (`#n0`) for an attribute or map key name. */
  name(attr: string): string {
    let p = this.#names.get(attr);
    if (p === undefined) {
      p = `#n${this.#names.size}`;
      this.#names.set(attr, p);
    }
    return p;
  }

  /** Placeholder (`:v0`) for a value. */
  value(av: AttributeValue): string {
    const p = `:v${this.#valueCount++}`;
    this.#values[p] = av;
    return p;
  }

  /** A document path of attribute names: `path('d', 'n')` → `#n0.#n1`. */
  path(...parts: string[]): string {
    return parts.map((p) => this.name(p)).join('.');
  }

  /** The request parameters (only the maps that are not empty). */
  params(): {
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Item;
  } {
    const out: {
      ExpressionAttributeNames?: Record<string, string>;
      ExpressionAttributeValues?: Item;
    } = {};
    if (this.#names.size > 0) {
      out.ExpressionAttributeNames = Object.fromEntries(
        [...this.#names].map(([attr, p]) => [p, attr]),
      );
    }
    if (this.#valueCount > 0) out.ExpressionAttributeValues = { ...this.#values };
    return out;
  }
}

/** AND of parts (empty parts skipped); `undefined` when nothing is left. */
export function and(parts: ReadonlyArray<string | undefined>): string | undefined {
  const kept = parts.filter((p): p is string => p !== undefined && p.length > 0);
  if (kept.length === 0) return undefined;
  if (kept.length === 1) return kept[0];
  return kept.map((p) => `(${p})`).join(' AND ');
}

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
      return `attribute_type(${p}, ${typeValue(e, 'N')}) AND ${p} ${op} ${e.value({ N: String(c.value) })}`;
    }
  }
}

/** Conditions on fields, AND-ed; also requires the data Map (so a `dj` record falls back). */
export function fieldsCondition(
  e: Expr,
  fields: readonly FieldCondition[] | undefined,
): string | undefined {
  if (fields === undefined || fields.length === 0) return undefined;
  return and([`attribute_exists(${e.name('d')})`, ...fields.map((c) => fieldCondition(e, c))]);
}

/** `expiresAt` null or after `now`. */
export function liveCondition(e: Expr, now: number): string {
  const x = e.name('x');
  return `attribute_not_exists(${x}) OR ${x} > ${e.value({ N: String(now) })}`;
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

/** Most items an `add` compiles natively (each needs a `NOT contains` guard). */
const MAX_NATIVE_ADD_ITEMS = 20;

/**
 * Compile the data and expiry parts of a mutation (not the version and write
 * id, which the caller adds). Returns `null` when DynamoDB cannot apply it with
 * the reference result in one step: index changes, `remove`, a value with no
 * native form, a non-integer `inc`, or a large `add`.
 *
 * @param ttlSeconds - maps an expiry (ms) to the TTL attribute value
 */
export function compileMutation(
  e: Expr,
  m: Mutation,
  ttlSeconds: (expiresAt: number) => number,
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
