/**
 * Options and the public type of the PostgreSQL store, and resolving the
 * connection it was given.
 * @module
 */
import pg from 'pg';
import type { Store } from '../contract.js';
import { clientDb, type Db, poolDb, type StatementNames } from './db.js';
import type { PostgresSweeperOptions } from './sweeper.js';

/** Use a `pg.Pool` the application already has; the store never ends it. */
export interface PostgresPoolConnection {
  readonly pool: pg.Pool;
}

/**
 * Use one connected `pg.Client`; the store never ends it. Statements of the
 * store are serialized on it (a transaction takes the client for its whole
 * length), and the same client listens for events; do not run your own
 * transactions on it concurrently with the store.
 */
export interface PostgresClientConnection {
  readonly client: pg.Client;
}

/** Connect from a URL (`postgres://user@host:5432/db`); the store owns the pool and ends it on `close()`. */
export interface PostgresUrlConnection {
  readonly url: string;
}

/** How the store reaches PostgreSQL. */
export type PostgresConnection =
  | PostgresPoolConnection
  | PostgresClientConnection
  | PostgresUrlConnection;

/** Options of `createPostgresStore`. */
export interface PostgresStoreOptions {
  /**
   * Schema of the store's tables (`tessera_records`, `tessera_index`,
   * `tessera_migrations`), created by `migrate()`. Default `'tessera'`; must
   * match `/^[a-z_][a-z0-9_]{0,47}$/`.
   */
  readonly schema?: string;
  /**
   * Use named server-side prepared statements (default true): each statement
   * shape is parsed and planned once per connection. Turn off behind a
   * transaction-mode pooler (PgBouncer before 1.21) that cannot keep them.
   */
  readonly preparedStatements?: boolean;
  /** Retries of a statement or transaction after a serialization failure or deadlock (default 10). */
  readonly maxRetries?: number;
  /**
   * Errors the store cannot throw to a caller: the events listener losing its
   * connection, idle connections of a pool the store owns. Default
   * `process.emitWarning`.
   */
  readonly onError?: (err: unknown) => void;
  /**
   * Called when the events listener has reconnected after a connection loss:
   * messages published meanwhile were not delivered, so drop cached state.
   *
   * The older form of `events.subscribe`'s `onStatus` option, which tells each
   * subscription both when the loss is seen (`false`) and when it is over
   * (`true`); access tokens' verify cache follows `onStatus` by itself, so it
   * needs no wiring here. Still called, after `onStatus(true)`.
   */
  readonly onEventsReconnect?: () => void;
  /** Extra settings of the pool the store creates from `url` (default `max` 10, connect timeout 5 s). */
  readonly poolConfig?: Omit<pg.PoolConfig, 'connectionString'>;
}

/** The PostgreSQL store: a {@link Store} plus a built-in expiry sweeper. */
export interface PostgresStore extends Store {
  readonly kind: 'postgres';
  /** The schema holding the store's tables. */
  readonly schema: string;
  /**
   * Run {@link Store.sweep} every `intervalMs` (default 60000) in the
   * background, repeating calls while they come back full. The timer is
   * `unref()`d; the sweeper also stops when the store is closed.
   *
   * @returns a function that stops this sweeper
   * @throws RangeError for a non-positive `intervalMs` or `limit`
   * @example `const stop = store.startSweeper({ intervalMs: 30_000 });`
   */
  startSweeper(options?: PostgresSweeperOptions): () => void;
}

/**
 * Resolve `{ pool }`, `{ client }` or `{ url }` to the store's connection layer.
 * @throws TypeError for missing, doubled or malformed connections
 * @example `const db = openDb({ url: 'postgres://localhost/app' }, {}, names, onError);`
 */
export function openDb(
  connection: PostgresConnection,
  options: PostgresStoreOptions,
  names: StatementNames,
  onError: (err: unknown) => void,
): Db {
  if (typeof connection !== 'object' || connection === null) {
    throw new TypeError('createPostgresStore takes { pool }, { client } or { url }');
  }
  const given = (['pool', 'client', 'url'] as const).filter(
    (k) => (connection as unknown as Record<string, unknown>)[k] !== undefined,
  );
  if (given.length !== 1) {
    throw new TypeError('createPostgresStore takes exactly one of { pool }, { client } or { url }');
  }
  if ('pool' in connection && connection.pool !== undefined) {
    const pool = connection.pool;
    if (typeof pool?.query !== 'function' || typeof pool.connect !== 'function') {
      throw new TypeError('pool must be a pg.Pool');
    }
    return poolDb(pool, names, false);
  }
  if ('client' in connection && connection.client !== undefined) {
    const client = connection.client;
    if (typeof client?.query !== 'function' || typeof client.on !== 'function') {
      throw new TypeError('client must be a connected pg.Client');
    }
    return clientDb(client, names);
  }
  const url = (connection as PostgresUrlConnection).url;
  if (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url)) {
    throw new TypeError('url must be a postgres:// or postgresql:// connection string');
  }
  const pool = new pg.Pool({
    max: 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    application_name: 'tessera',
    ...options.poolConfig,
    connectionString: url,
  });
  // An idle connection that dies (server restart) must not crash the process.
  pool.on('error', onError);
  return poolDb(pool, names, true);
}
