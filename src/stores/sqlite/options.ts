/**
 * Options and the public type of the SQLite store, and opening its database.
 * @module
 */
import Database from 'better-sqlite3';
import type { Store } from '../contract.js';
import { toStoreError } from './errors.js';
import type { SqliteSweeperOptions } from './sweeper.js';

/** Options shared by both ways of giving the store a database. */
export interface SqliteStoreCommonOptions {
  /**
   * Prefix of the store's tables (`<prefix>meta`, `<prefix>records`,
   * `<prefix>index`), default `'tessera_'`. Must match
   * `/^[A-Za-z_][A-Za-z0-9_]{0,31}$/` (or be empty).
   */
  readonly tablePrefix?: string;
  /** How long a write waits for another connection's lock before failing, ms (default 5000). */
  readonly busyTimeoutMs?: number;
}

/** Use a better-sqlite3 `Database` the application already has; the store never closes it. */
export interface SqliteStoreDatabaseOptions extends SqliteStoreCommonOptions {
  readonly database: Database.Database;
  readonly path?: undefined;
}

/** Open a database file (or `':memory:'`); the store owns it and closes it on `close()`. */
export interface SqliteStorePathOptions extends SqliteStoreCommonOptions {
  readonly path: string;
  readonly database?: undefined;
}

/** Options of `createSqliteStore`. */
export type SqliteStoreOptions = SqliteStoreDatabaseOptions | SqliteStorePathOptions;

/** The SQLite store: a {@link Store} plus a built-in expiry sweeper. */
export interface SqliteStore extends Store {
  readonly kind: 'sqlite';
  /**
   * Run {@link Store.sweep} every `intervalMs` (default 60000) in the background,
   * repeating calls while they come back full. The timer is `unref()`d; the
   * sweeper also stops when the store is closed.
   *
   * @returns a function that stops this sweeper
   * @throws RangeError for a non-positive `intervalMs` or `limit`
   * @example `const stop = store.startSweeper({ intervalMs: 30_000 });`
   */
  startSweeper(options?: SqliteSweeperOptions): () => void;
}

/**
 * Resolve `{ database }` or `{ path }` to a connection and whether the store owns it.
 * @throws TypeError for missing, doubled or malformed options; StoreUnavailableError when `path` cannot be opened
 * @example `const { db, owned } = openDatabase({ path: ':memory:' }); // owned === true`
 */
export function openDatabase(options: SqliteStoreOptions): {
  db: Database.Database;
  owned: boolean;
} {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createSqliteStore takes { database } or { path }');
  }
  const hasDb = options.database !== undefined;
  const hasPath = options.path !== undefined;
  if (hasDb === hasPath) {
    throw new TypeError('createSqliteStore takes exactly one of { database } or { path }');
  }
  if (hasDb) {
    const db = options.database as Database.Database;
    if (typeof db !== 'object' || db === null || typeof db.prepare !== 'function') {
      throw new TypeError('database must be a better-sqlite3 Database');
    }
    return { db, owned: false };
  }
  if (typeof options.path !== 'string' || options.path.length === 0) {
    throw new TypeError('path must be a non-empty string (a file name or ":memory:")');
  }
  try {
    return { db: new Database(options.path), owned: true };
  } catch (err) {
    throw toStoreError(err, 'open', false);
  }
}
