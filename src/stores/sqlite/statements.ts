/**
 * Prepared statements of one SQLite store, and the {@link SyncTable} the
 * shared write engine runs over. Statements are prepared once, on first use
 * (after `migrate()` has created the tables), and reused.
 * @module
 */
import type Database from 'better-sqlite3';
import { StoreError } from '../../core/errors.js';
import type { IndexValues, JsonObject, StoredRecord } from '../contract.js';
import type { SyncTable } from '../shared/sync-engine.js';
import type { TableNames } from './schema.js';

/** A row of `<prefix>records` as read (the key columns are known to the caller or selected). */
export interface RecordRow {
  readonly collection: string;
  readonly key: string;
  readonly partition: string;
  readonly data: string;
  readonly idx: string;
  readonly version: number;
  readonly expires_at: number | null;
}

type Stmt = Database.Statement<unknown[], unknown>;

/** The statements a store uses. */
export interface Statements {
  readonly getRecord: Stmt;
  readonly getIdx: Stmt;
  readonly upsertRecord: Stmt;
  readonly deleteRecord: Stmt;
  readonly insertIndex: Stmt;
  readonly deleteIndex: Stmt;
  readonly listPage: Stmt;
  readonly indexPage: Stmt;
  readonly anyAfter: Stmt;
  readonly anyIndexAfter: Stmt;
  readonly expired: Stmt;
}

const COLUMNS = 'collection, key, partition, data, idx, version, expires_at';

/**
 * Prepare every statement of a store (the tables must exist).
 * @throws SqliteError `no such table` before `migrate()`
 * @example `const st = prepareStatements(db, tableNames('tessera_'));`
 */
export function prepareStatements(db: Database.Database, t: TableNames): Statements {
  const p = (sql: string): Stmt => db.prepare(sql);
  return {
    getRecord: p(`SELECT ${COLUMNS} FROM ${t.records} WHERE collection = ? AND key = ?`),
    getIdx: p(`SELECT idx FROM ${t.records} WHERE collection = ? AND key = ?`).pluck(),
    upsertRecord: p(
      `INSERT INTO ${t.records} (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (collection, key) DO UPDATE SET
         partition = excluded.partition, data = excluded.data, idx = excluded.idx,
         version = excluded.version, expires_at = excluded.expires_at`,
    ),
    deleteRecord: p(`DELETE FROM ${t.records} WHERE collection = ? AND key = ?`),
    insertIndex: p(
      `INSERT OR IGNORE INTO ${t.index} (collection, name, value, key) VALUES (?, ?, ?, ?)`,
    ),
    deleteIndex: p(
      `DELETE FROM ${t.index} WHERE collection = ? AND name = ? AND value = ? AND key = ?`,
    ),
    listPage: p(
      `SELECT ${COLUMNS} FROM ${t.records}
       WHERE collection = ? AND key > ? ORDER BY key LIMIT ?`,
    ),
    indexPage: p(
      `SELECT r.collection, r.key, r.partition, r.data, r.idx, r.version, r.expires_at
       FROM ${t.index} i JOIN ${t.records} r ON r.collection = i.collection AND r.key = i.key
       WHERE i.collection = ? AND i.name = ? AND i.value = ? AND i.key > ?
       ORDER BY i.key LIMIT ?`,
    ),
    anyAfter: p(`SELECT 1 FROM ${t.records} WHERE collection = ? AND key > ? LIMIT 1`).pluck(),
    anyIndexAfter: p(
      `SELECT 1 FROM ${t.index} WHERE collection = ? AND name = ? AND value = ? AND key > ? LIMIT 1`,
    ).pluck(),
    expired: p(
      `SELECT collection, key, idx FROM ${t.records}
       WHERE expires_at <= ? ORDER BY expires_at LIMIT ?`,
    ),
  };
}

function parseObject(text: string, what: string, row: RecordRow): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new StoreError(`corrupt ${what} JSON in ${row.collection}/${row.key}`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StoreError(`corrupt ${what} JSON in ${row.collection}/${row.key}`);
  }
  return value as Record<string, unknown>;
}

/**
 * Turn a row into a {@link StoredRecord}.
 * @throws StoreError when the stored JSON is not an object
 * @example `const record = rowToRecord(st.getRecord.get('c', 'k') as RecordRow);`
 */
export function rowToRecord(row: RecordRow): StoredRecord {
  return {
    collection: row.collection,
    key: row.key,
    partition: row.partition,
    data: parseObject(row.data, 'data', row) as JsonObject,
    expiresAt: row.expires_at,
    index: parseObject(row.idx, 'index', row) as IndexValues,
    version: row.version,
  };
}

function parseIdx(text: string | undefined): Record<string, string> {
  if (text === undefined) return {};
  const v = JSON.parse(text) as unknown;
  return typeof v === 'object' && v !== null ? (v as Record<string, string>) : {};
}

/**
 * The record table the shared sync engine runs over. Each write keeps the
 * `<prefix>index` rows in step with the record's `idx` column; callers run it
 * inside one transaction.
 * @example `db.transaction(() => syncPut(createSyncTable(() => st), input, 'insert', now)).immediate();`
 */
export function createSyncTable(s: () => Statements): SyncTable {
  return {
    read(collection, key) {
      const row = s().getRecord.get(collection, key) as RecordRow | undefined;
      return row === undefined ? null : rowToRecord(row);
    },
    write(record) {
      const st = s();
      const old = parseIdx(st.getIdx.get(record.collection, record.key) as string | undefined);
      for (const [name, value] of Object.entries(old)) {
        if (record.index[name] !== value)
          st.deleteIndex.run(record.collection, name, value, record.key);
      }
      for (const [name, value] of Object.entries(record.index)) {
        if (old[name] !== value) st.insertIndex.run(record.collection, name, value, record.key);
      }
      st.upsertRecord.run(
        record.collection,
        record.key,
        record.partition,
        JSON.stringify(record.data),
        JSON.stringify(record.index),
        record.version,
        record.expiresAt,
      );
    },
    remove(collection, key) {
      const st = s();
      const idx = st.getIdx.get(collection, key) as string | undefined;
      if (idx === undefined) return;
      removeRow(st, collection, key, idx);
    },
  };
}

/**
 * Delete a record row and its index rows (inside the caller's transaction).
 * @example `removeRow(st, 'sessions', key, row.idx);`
 */
export function removeRow(st: Statements, collection: string, key: string, idx: string): void {
  for (const [name, value] of Object.entries(parseIdx(idx))) {
    st.deleteIndex.run(collection, name, value, key);
  }
  st.deleteRecord.run(collection, key);
}
