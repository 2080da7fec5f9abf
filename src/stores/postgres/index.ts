/**
 * `tessera/stores/postgres`: the PostgreSQL store, over a `pg` Pool or Client
 * you already have, or a URL. `pg` is an optional peer dependency.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createPostgresStore } from 'tessera/stores/postgres';
 * const store = createPostgresStore({ pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }) });
 * await store.migrate();
 * ```
 * @module
 */
export type {
  PostgresClientConnection,
  PostgresConnection,
  PostgresPoolConnection,
  PostgresStore,
  PostgresStoreOptions,
  PostgresUrlConnection,
} from './options.js';
export { createPostgresStore } from './postgres-store.js';
export { SCHEMA_VERSION } from './schema.js';
export type { PostgresSweeperOptions } from './sweeper.js';
