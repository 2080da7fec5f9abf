/**
 * `update` statements compiled once per shape: the text of an `update`
 * depends only on its shape (field names, operators, which parts are
 * present), so a hot update (action-token `use()`, a session touch) costs a
 * short shape key and its bound values, not a compilation of some 600
 * characters of jsonb SQL. A property test holds the cached text and values
 * to a fresh {@link updateSql} for every shape.
 * @module
 */
import type { Mutation, RecordRef, Where } from '../contract.js';
import type { Sql } from './db.js';
import type { SchemaNames } from './schema.js';
import { updateSql } from './statements.js';

/** Items in order, each once (as `compileMutation` binds them). */
function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}

/**
 * The shape of an `update`: everything its statement text depends on (field
 * names, operators, which parts are present), nothing it binds. Field and
 * index names are validated identifiers, so the separators cannot clash.
 */
function updateShape(
  ref: RecordRef,
  partition: string,
  m: Mutation,
  where: Where | undefined,
  liveNow: number | undefined,
): string {
  let s = partition === ref.key ? 'k' : 'p';
  if (m.inc !== undefined) for (const f of Object.keys(m.inc)) s += `|i:${f}`;
  if (m.add !== undefined) for (const f of Object.keys(m.add)) s += `|a:${f}`;
  if (m.set !== undefined && Object.keys(m.set).length > 0) s += '|s';
  if (m.remove !== undefined) for (const f of Object.keys(m.remove)) s += `|r:${f}`;
  if (m.unset !== undefined && m.unset.length > 0) s += '|u';
  if (m.expiresAt !== undefined) s += '|x';
  if (m.index !== undefined) {
    let removed = false;
    let added = false;
    for (const name of Object.keys(m.index)) {
      if (m.index[name] === null) removed = true;
      else added = true;
    }
    if (removed) s += '|ir';
    if (added) s += '|ia';
  }
  if (liveNow !== undefined) s += '|L';
  if (where !== undefined) {
    if (where.version !== undefined) s += '|wv';
    if (where.liveAt !== undefined) s += '|wl';
    const fields = where.fields;
    if (fields !== undefined) for (const c of fields) s += `|f:${c.field}:${c.op}`;
  }
  return s;
}

/**
 * The values {@link updateSql} binds, in its order, without building its text.
 * (A property test holds the two to the same values for every shape.)
 */
function updateValues(
  ref: RecordRef,
  partition: string,
  m: Mutation,
  where: Where | undefined,
  liveNow: number | undefined,
): unknown[] {
  const v: unknown[] = [ref.collection, ref.key];
  if (partition !== ref.key) v.push(partition);
  if (m.inc !== undefined) for (const f of Object.keys(m.inc)) v.push(m.inc[f]);
  if (m.add !== undefined) for (const f of Object.keys(m.add)) v.push(unique(m.add[f] as string[]));
  if (m.set !== undefined && Object.keys(m.set).length > 0) v.push(JSON.stringify(m.set));
  if (m.remove !== undefined)
    for (const f of Object.keys(m.remove)) v.push(unique(m.remove[f] as string[]));
  if (m.unset !== undefined && m.unset.length > 0) v.push([...m.unset]);
  if (m.expiresAt !== undefined) v.push(m.expiresAt);
  if (m.index !== undefined) {
    const removed = Object.keys(m.index).filter((k) => m.index?.[k] === null);
    const added = Object.fromEntries(Object.entries(m.index).filter(([, x]) => x !== null));
    if (removed.length > 0) v.push(removed);
    if (Object.keys(added).length > 0) v.push(JSON.stringify(added));
  }
  if (liveNow !== undefined) v.push(liveNow);
  if (where !== undefined) {
    if (where.version !== undefined) v.push(where.version);
    if (where.liveAt !== undefined) v.push(where.liveAt);
    const fields = where.fields;
    if (fields !== undefined) {
      for (const c of fields) {
        if (c.op === 'exists' || c.op === 'absent' || !('value' in c)) continue; // nothing bound
        v.push(c.op === 'eq' || c.op === 'ne' ? JSON.stringify(c.value) : c.value);
      }
    }
  }
  return v;
}

/** Most update shapes whose statement text one store keeps. */
const MAX_UPDATE_SHAPES = 256;

/**
 * {@link updateSql} with the statement text compiled once per shape: a hot
 * update (action-token `use()`, a session touch) then costs a short shape key
 * and its bound values, not a compilation.
 * @example `const updates = createUpdateStatements(names); const sql = updates.sql(ref, 'p', m, where);`
 */
export function createUpdateStatements(n: SchemaNames): {
  sql(
    ref: RecordRef,
    partition: string,
    mutation: Mutation,
    where: Where | undefined,
    liveNow?: number,
  ): Sql;
} {
  const texts = new Map<string, string>();
  return {
    sql(ref, partition, mutation, where, liveNow) {
      const shape = updateShape(ref, partition, mutation, where, liveNow);
      const text = texts.get(shape);
      if (text !== undefined) {
        return { text, values: updateValues(ref, partition, mutation, where, liveNow) };
      }
      const compiled = updateSql(n, ref, partition, mutation, where, liveNow);
      if (texts.size < MAX_UPDATE_SHAPES) texts.set(shape, compiled.text);
      return compiled;
    },
  };
}
