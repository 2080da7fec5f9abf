/**
 * `tessera/stores/sqlite`: the embedded default store, over better-sqlite3.
 *
 * @example
 * ```ts
 * import { createSqliteStore } from 'tessera/stores/sqlite';
 * const store = createSqliteStore({ path: './tessera.db' });
 * await store.migrate();
 * ```
 * @module
 */
export type {
  SqliteStore,
  SqliteStoreCommonOptions,
  SqliteStoreDatabaseOptions,
  SqliteStoreOptions,
  SqliteStorePathOptions,
} from './options.js';
export { createSqliteStore } from './sqlite-store.js';
export type { SqliteSweeperOptions } from './sweeper.js';
