/**
 * Opened by race worker processes (see `src/testing/race.ts`): a SQLite store
 * over the file the test names.
 */

import type { Store } from '../../../src/stores/contract.js';
import { createSqliteStore, type SqliteStore } from '../../../src/stores/sqlite/index.js';

/** What a worker receives as `arg`. */
export interface WorkerArg {
  readonly path: string;
  readonly tablePrefix?: string;
  /** Migrate before handing the store over (default true). */
  readonly migrate?: boolean;
  readonly busyTimeoutMs?: number;
}

/** Open (and by default migrate) a store over `arg.path`. */
export async function createStore(arg: WorkerArg): Promise<SqliteStore> {
  const store = createSqliteStore({
    path: arg.path,
    tablePrefix: arg.tablePrefix,
    busyTimeoutMs: arg.busyTimeoutMs ?? 20_000,
  });
  if (arg.migrate !== false) await store.migrate();
  return store;
}

/** A custom racer: run `migrate()` and report success. */
export async function migrateRacer(store: Store): Promise<boolean> {
  await store.migrate();
  return true;
}
