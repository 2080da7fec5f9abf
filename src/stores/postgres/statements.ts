/**
 * The SQL statements of the PostgreSQL store, built per call from the
 * operation's shape (so each distinct shape is one prepared statement), and
 * the mapping of rows back to {@link StoredRecord}s.
 * @module
 */
import { StoreError } from '../../core/errors.js';
import type {
  IndexValues,
  JsonObject,
  Mutation,
  RecordRef,
  StoredRecord,
  Where,
} from '../contract.js';
import { compileMutation, compileWhere, liveAt, numericFields, Params } from './compile.js';
import type { Row, Sql } from './db.js';
import { recordLockKey, type SchemaNames } from './schema.js';

/** Columns read back for a record whose collection and key the caller knows. */
export const RECORD_COLUMNS = 'partition, data, idx, version, expires_at';

/**
 * Turn a row into a {@link StoredRecord}.
 * @param partition - the record's partition when the row does not carry it
 * @throws StoreError when the stored data or index is not a JSON object
 * @example `rowToRecord('sessions', 'k', row)`
 */
export function rowToRecord(
  collection: string,
  key: string,
  row: Row,
  partition = row.partition as string,
): StoredRecord {
  const { data, idx } = row;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new StoreError(`corrupt data in ${collection}/${key}: not a JSON object`);
  }
  if (typeof idx !== 'object' || idx === null || Array.isArray(idx)) {
    throw new StoreError(`corrupt index values in ${collection}/${key}: not a JSON object`);
  }
  return {
    collection,
    key,
    partition,
    data: data as JsonObject,
    expiresAt: row.expires_at === null ? null : (row.expires_at as number),
    index: idx as IndexValues,
    version: row.version as number,
  };
}

/** Bind the address of a record: collection, key and partition placeholders. */
function address(p: Params, ref: RecordRef, partition: string) {
  const c = p.add(ref.collection, 'text');
  const k = p.add(ref.key, 'text');
  const part = partition === ref.key ? k : p.add(partition, 'text');
  return { c, k, part };
}

/**
 * `SELECT` one record.
 * @example `getSql(names, ref)`
 */
export function getSql(n: SchemaNames, ref: RecordRef): Sql {
  return {
    text: `SELECT ${RECORD_COLUMNS} FROM ${n.records} WHERE collection = $1::text AND key = $2::text`,
    values: [ref.collection, ref.key],
  };
}

/**
 * `SELECT` many records in one statement; rows carry their position `i` (1-based).
 * @example `getManySql(names, refs)`
 */
export function getManySql(n: SchemaNames, refs: readonly RecordRef[]): Sql {
  return {
    text: `SELECT t.i, r.${RECORD_COLUMNS.split(', ').join(', r.')}
      FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(collection, key, i)
      JOIN ${n.records} AS r ON r.collection = t.collection AND r.key = t.key`,
    values: [refs.map((r) => r.collection), refs.map((r) => r.key)],
  };
}

/**
 * The fast path of `update`: apply the mutation to a record that exists in
 * `partition`, matches `where` (and is live at `liveNow` when given) and to
 * which the mutation applies, in one `UPDATE ... RETURNING`.
 * @example `updateSql(names, ref, 'p', { inc: { uses: -1 } }, { liveAt: now })`
 */
export function updateSql(
  n: SchemaNames,
  ref: RecordRef,
  partition: string,
  mutation: Mutation,
  where: Where | undefined,
  liveNow?: number,
): Sql {
  const p = new Params();
  const { c, k, part } = address(p, ref, partition);
  const m = compileMutation(mutation, p, numericFields(where));
  const conds = [`collection = ${c}`, `key = ${k}`, `partition = ${part}`];
  if (liveNow !== undefined) conds.push(liveAt(p.add(liveNow, 'bigint')));
  conds.push(...compileWhere(where, p), ...m.guards);
  return {
    text: `UPDATE ${n.records} SET ${m.set.join(', ')} WHERE ${conds.join(' AND ')} RETURNING data, idx, version, expires_at`,
    values: p.values,
  };
}

/** A whole record to write (partition resolved). */
export interface WriteInput {
  readonly collection: string;
  readonly key: string;
  readonly partition: string;
  readonly data: JsonObject;
  readonly index: IndexValues;
  readonly expiresAt: number | null;
}

/**
 * `put` in `insert` mode (or `upsert` when `insertNow` is undefined): insert
 * the record, or replace an existing one in the same partition that is not
 * live at `insertNow` (any one, for upsert), continuing its version. Takes the
 * record's advisory lock first, so a transaction holding it sees no insert
 * behind its back. Returns the new version.
 * @example `insertSql(names, record, now)`
 */
export function insertSql(n: SchemaNames, r: WriteInput, insertNow: number | undefined): Sql {
  const p = new Params();
  const values = [
    p.add(r.collection, 'text'),
    p.add(r.key, 'text'),
    p.add(r.partition, 'text'),
    p.add(JSON.stringify(r.data), 'jsonb'),
    p.add(JSON.stringify(r.index), 'jsonb'),
    p.add(r.expiresAt, 'bigint'),
  ];
  const lock = p.add(recordLockKey(n, r.collection, r.key), 'bigint');
  const conds = ['r.partition = EXCLUDED.partition'];
  if (insertNow !== undefined) {
    conds.push(`r.expires_at IS NOT NULL AND r.expires_at <= ${p.add(insertNow, 'bigint')}`);
  }
  return {
    text: `INSERT INTO ${n.records} AS r (collection, key, partition, data, idx, expires_at, version)
      SELECT ${values.join(', ')}, 1 FROM (SELECT pg_advisory_xact_lock(${lock})) AS l
      ON CONFLICT (collection, key) DO UPDATE SET data = EXCLUDED.data, idx = EXCLUDED.idx,
        expires_at = EXCLUDED.expires_at, version = r.version + 1
      WHERE ${conds.join(' AND ')}
      RETURNING r.version`,
    values: p.values,
  };
}

/**
 * `put` in `replace` mode: overwrite a record of the partition that is live at
 * `now` and matches `where`. Returns the new version.
 * @example `replaceSql(names, record, now, { version: 3 })`
 */
export function replaceSql(n: SchemaNames, r: WriteInput, now: number, where?: Where): Sql {
  const p = new Params();
  const { c, k, part } = address(p, r, r.partition);
  const conds = [
    `collection = ${c}`,
    `key = ${k}`,
    `partition = ${part}`,
    liveAt(p.add(now, 'bigint')),
  ];
  conds.push(...compileWhere(where, p));
  return {
    text: `UPDATE ${n.records} SET data = ${p.add(JSON.stringify(r.data), 'jsonb')},
      idx = ${p.add(JSON.stringify(r.index), 'jsonb')}, expires_at = ${p.add(r.expiresAt, 'bigint')},
      version = version + 1
      WHERE ${conds.join(' AND ')} RETURNING version`,
    values: p.values,
  };
}

/**
 * `delete` of a record of the partition that matches `where`, returning it.
 * @example `deleteSql(names, ref, 'p', { version: 2 })`
 */
export function deleteSql(n: SchemaNames, ref: RecordRef, partition: string, where?: Where): Sql {
  const p = new Params();
  const { c, k, part } = address(p, ref, partition);
  const conds = [`collection = ${c}`, `key = ${k}`, `partition = ${part}`];
  conds.push(...compileWhere(where, p));
  return {
    text: `DELETE FROM ${n.records} WHERE ${conds.join(' AND ')} RETURNING ${RECORD_COLUMNS}`,
    values: p.values,
  };
}

/**
 * Delete up to `limit` records expired at or before `cutoff`, oldest first,
 * skipping rows another transaction holds: one short transaction per batch.
 * @example `sweepSql(names, Date.now(), 500)`
 */
export function sweepSql(n: SchemaNames, cutoff: number, limit: number): Sql {
  return {
    text: `DELETE FROM ${n.records} WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM ${n.records} WHERE expires_at <= $1::bigint
        ORDER BY expires_at LIMIT $2::integer FOR UPDATE SKIP LOCKED
      )) AND expires_at <= $1::bigint
      RETURNING 1`,
    values: [cutoff, limit],
  };
}

/**
 * Take the advisory locks of the records a transaction addresses, in
 * ascending key order (no deadlock between two transactions).
 * @example `lockSql(names, refs)`
 */
export function lockSql(n: SchemaNames, refs: readonly RecordRef[]): Sql {
  const keys = [...new Set(refs.map((r) => recordLockKey(n, r.collection, r.key)))].sort((a, b) => {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return {
    text: 'SELECT count(pg_advisory_xact_lock(h)) FROM unnest($1::bigint[]) AS u(h)',
    values: [keys],
  };
}

/**
 * `SELECT ... FOR UPDATE` of the records a transaction addresses, in key order.
 * @example `lockRowsSql(names, refs)`
 */
export function lockRowsSql(n: SchemaNames, refs: readonly RecordRef[]): Sql {
  return {
    text: `SELECT r.collection, r.key, r.${RECORD_COLUMNS.split(', ').join(', r.')}
      FROM ${n.records} AS r
      WHERE (r.collection, r.key) IN (SELECT * FROM unnest($1::text[], $2::text[]))
      ORDER BY r.collection, r.key FOR UPDATE OF r`,
    values: [refs.map((r) => r.collection), refs.map((r) => r.key)],
  };
}

/**
 * Write a transaction's outcome in one statement: delete `removed`, upsert `written`
 * (whose versions the planner already computed).
 * @example `writeSql(names, [record], [])`
 */
export function writeSql(
  n: SchemaNames,
  written: readonly StoredRecord[],
  removed: readonly RecordRef[],
): Sql {
  const rows = written.map((r) => ({
    collection: r.collection,
    key: r.key,
    partition: r.partition,
    data: r.data,
    idx: r.index,
    version: r.version,
    expires_at: r.expiresAt,
  }));
  return {
    text: `WITH removed AS (
        DELETE FROM ${n.records}
        WHERE (collection, key) IN (SELECT * FROM unnest($2::text[], $3::text[]))
        RETURNING 1
      )
      INSERT INTO ${n.records} AS r (collection, key, partition, data, idx, version, expires_at)
      SELECT x.collection, x.key, x.partition, x.data, x.idx, x.version, x.expires_at
      FROM jsonb_to_recordset($1::jsonb) AS x(collection text, key text, partition text,
        data jsonb, idx jsonb, version bigint, expires_at bigint)
      ON CONFLICT (collection, key) DO UPDATE SET partition = EXCLUDED.partition,
        data = EXCLUDED.data, idx = EXCLUDED.idx, version = EXCLUDED.version,
        expires_at = EXCLUDED.expires_at`,
    values: [JSON.stringify(rows), removed.map((r) => r.collection), removed.map((r) => r.key)],
  };
}
