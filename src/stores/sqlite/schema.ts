/**
 * The SQLite schema and its versioned, multi-process-safe migration.
 * @module
 */
import type Database from 'better-sqlite3';
import { StoreError } from '../../core/errors.js';

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = 1;

const PREFIX_RE = /^(?:[A-Za-z_][A-Za-z0-9_]{0,31})?$/;

/** Quoted table and index names for one table prefix. */
export interface TableNames {
  readonly meta: string;
  readonly records: string;
  readonly index: string;
  readonly expiresIndex: string;
}

/**
 * Check a table prefix and build the quoted names of the store's tables.
 * @throws TypeError when `prefix` is not `/^[A-Za-z_][A-Za-z0-9_]{0,31}$/` (or empty)
 * @example `tableNames('tessera_').records // '"tessera_records"'`
 */
export function tableNames(prefix: string): TableNames {
  if (typeof prefix !== 'string' || !PREFIX_RE.test(prefix)) {
    throw new TypeError('tablePrefix must match /^[A-Za-z_][A-Za-z0-9_]{0,31}$/ or be empty');
  }
  return {
    meta: `"${prefix}meta"`,
    records: `"${prefix}records"`,
    index: `"${prefix}index"`,
    expiresIndex: `"${prefix}records_expires_at"`,
  };
}

/** Migrations: entry `i` upgrades schema version `i` to `i + 1`. */
const MIGRATIONS: ReadonlyArray<(t: TableNames) => string> = [
  (t) => `
    CREATE TABLE IF NOT EXISTS ${t.records} (
      collection TEXT NOT NULL,
      key TEXT NOT NULL,
      partition TEXT NOT NULL,
      data TEXT NOT NULL,
      idx TEXT NOT NULL DEFAULT '{}',
      version INTEGER NOT NULL,
      expires_at INTEGER,
      PRIMARY KEY (collection, key)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS ${t.expiresIndex} ON ${t.records} (expires_at);
    CREATE TABLE IF NOT EXISTS ${t.index} (
      collection TEXT NOT NULL,
      name TEXT NOT NULL,
      value TEXT NOT NULL,
      key TEXT NOT NULL,
      PRIMARY KEY (collection, name, value, key)
    ) WITHOUT ROWID;
  `,
];

/**
 * Create or upgrade the schema inside one `BEGIN IMMEDIATE` transaction, so
 * several processes migrating the same file at once serialize on SQLite's
 * write lock and each step runs exactly once. The version lives in
 * `<prefix>meta` (`name = 'schema_version'`).
 *
 * @throws StoreError when the file holds a newer schema than this code knows
 * @example `migrateSchema(db, tableNames('tessera_'));`
 */
export function migrateSchema(db: Database.Database, t: TableNames): void {
  const run = db.transaction(() => {
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${t.meta} (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID`,
    );
    const row = db.prepare(`SELECT value FROM ${t.meta} WHERE name = 'schema_version'`).get() as
      | { value: string }
      | undefined;
    const current = row === undefined ? 0 : Number(row.value);
    if (!Number.isSafeInteger(current) || current < 0) {
      throw new StoreError(`unreadable schema version ${JSON.stringify(row?.value)} in ${t.meta}`);
    }
    if (current > SCHEMA_VERSION) {
      throw new StoreError(
        `the database has schema version ${current}; this tessera supports up to ${SCHEMA_VERSION}`,
      );
    }
    for (let v = current; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!(t));
    if (current !== SCHEMA_VERSION) {
      db.prepare(
        `INSERT INTO ${t.meta} (name, value) VALUES ('schema_version', ?)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
      ).run(String(SCHEMA_VERSION));
    }
  });
  run.immediate();
}

/**
 * Put a file database in WAL mode (readers never block the writer, and the
 * writer never blocks readers). A no-op for in-memory databases, which have no
 * WAL. Runs outside any transaction: SQLite cannot change the journal mode
 * inside one.
 *
 * @throws StoreError when SQLite refuses to switch (for example a read-only file)
 * @example `enableWal(db); // then db.pragma('journal_mode', { simple: true }) === 'wal'`
 */
export function enableWal(db: Database.Database): void {
  if (db.memory || db.inTransaction) return;
  const mode = db.pragma('journal_mode', { simple: true });
  if (typeof mode === 'string' && mode.toLowerCase() === 'wal') return;
  const got = db.pragma('journal_mode = WAL', { simple: true });
  if (typeof got !== 'string' || got.toLowerCase() !== 'wal') {
    throw new StoreError(
      `could not switch the database to WAL mode (journal_mode is ${String(got)})`,
    );
  }
}
