/**
 * Pages of the PostgreSQL store: the keyset statements of `list` and
 * `findByIndex`, and turning their rows into a {@link Page} and its cursor.
 * @module
 */
import type { FieldCondition, Page, StoredRecord } from '../contract.js';
import { encodeCursor } from '../shared/semantics.js';
import { compileField, Params } from './compile.js';
import type { Row, Sql } from './db.js';
import type { SchemaNames } from './schema.js';
import { RECORD_COLUMNS, rowToRecord } from './statements.js';

/** Rows scanned at most by one filtered `list`/`findByIndex` call before it returns a partial page. */
export const SCAN_BUDGET = 5000;

/**
 * One page of a collection, or of an index value, after the key `after`.
 *
 * The keys come from an ordered keyset scan of the primary key (a collection)
 * or of the index table's primary key (an index value), which stops after the
 * rows it needs; an index hit then reads its record by primary key (a LATERAL
 * subquery with `LIMIT 1`, which the planner cannot flatten into a hash join,
 * so the plan stays an ordered nested loop whatever the statistics say). Every
 * row carries `hit`: whether the record still holds the index value (always
 * true within one statement, since a trigger keeps the index table in the
 * same transaction; the caller drops rows where it is not).
 *
 * Without field conditions it reads `limit + 1` rows. With conditions it
 * scans a window of at most {@link SCAN_BUDGET} keys, evaluates the conditions
 * in SQL, and returns the matching rows (`m`) plus the window's last row when
 * the window is full (`n = budget`), so the caller can continue after it.
 * @example `pageSql(names, { collection: 'c' }, '', 100, [])`
 */
export function pageSql(
  n: SchemaNames,
  source: { collection: string; index?: { name: string; value: string } },
  after: string,
  limit: number,
  fields: readonly FieldCondition[],
): Sql {
  const p = new Params();
  const c = p.add(source.collection, 'text');
  const a = p.add(after, 'text');
  const filtered = fields.length > 0;
  const rowLimit = p.add(filtered ? SCAN_BUDGET : limit + 1, 'integer');
  const columns = `r.${RECORD_COLUMNS.split(', ').join(', r.')}`;
  let from: string;
  if (source.index === undefined) {
    from = `SELECT r.key, ${columns}, true AS hit FROM ${n.records} AS r
      WHERE r.collection = ${c} AND r.key > ${a} ORDER BY r.key LIMIT ${rowLimit}`;
  } else {
    const name = p.add(source.index.name, 'text');
    const value = p.add(source.index.value, 'text');
    from = `SELECT k.key, ${columns}, (r.idx ->> ${name}) IS NOT DISTINCT FROM ${value} AS hit
      FROM (
        SELECT i.key FROM ${n.index} AS i
        WHERE i.collection = ${c} AND i.name = ${name} AND i.value = ${value} AND i.key > ${a}
        ORDER BY i.key LIMIT ${rowLimit}
      ) AS k
      CROSS JOIN LATERAL (
        SELECT r0.${RECORD_COLUMNS.split(', ').join(', r0.')} FROM ${n.records} AS r0
        WHERE r0.collection = ${c} AND r0.key = k.key LIMIT 1
      ) AS r
      ORDER BY k.key`;
  }
  if (!filtered) return { text: from, values: p.values };
  const conds = fields.map((f) => compileField(f, p, 'w.data'));
  return {
    text: `SELECT x.* FROM (
        SELECT w.*, (w.hit AND ${conds.join(' AND ')}) AS m, row_number() OVER (ORDER BY w.key) AS n
        FROM (${from}) AS w
      ) AS x WHERE x.m OR x.n = ${rowLimit} ORDER BY x.key LIMIT ${p.add(limit + 1, 'integer')}`,
    values: p.values,
  };
}

/**
 * Turn the rows of a {@link pageSql} statement into a page and its cursor.
 * @example `toPage('sessions', rows, 100, false)`
 */
export function toPage(collection: string, rows: Row[], limit: number, filtered: boolean): Page {
  const records: StoredRecord[] = [];
  const record = (row: Row) => rowToRecord(collection, row.key as string, row);
  if (!filtered) {
    // limit + 1 keys were read: the extra one says whether a next page exists.
    for (const row of rows.slice(0, limit)) if (row.hit === true) records.push(record(row));
    const last = rows[Math.min(rows.length, limit) - 1];
    return {
      records,
      cursor: rows.length > limit && last !== undefined ? encodeCursor(last.key as string) : null,
    };
  }
  for (const row of rows) {
    if (row.m !== true) continue;
    if (records.length === limit) {
      return { records, cursor: encodeCursor(records[records.length - 1]!.key) };
    }
    records.push(record(row));
  }
  // The scan window was full: continue after its last key.
  const last = rows[rows.length - 1];
  if (last !== undefined && last.n === SCAN_BUDGET) {
    return { records, cursor: encodeCursor(last.key as string) };
  }
  return { records, cursor: null };
}
