/**
 * The connection layer of the PostgreSQL store: one statement on any pooled
 * connection, a `BEGIN ... COMMIT` block on one connection, and a dedicated
 * connection for `LISTEN`. Over a `pg.Pool` (the store's own or the caller's)
 * or over one `pg.Client`, whose statements are then serialized so that a
 * transaction never interleaves with other calls.
 * @module
 */
import { createHash } from 'node:crypto';
import type { Client, CustomTypesConfig, Pool, PoolClient, QueryConfig } from 'pg';
import { StoreUnavailableError } from '../../core/errors.js';
import { isConnectionFailure } from './errors.js';

/** One statement and its parameters. */
export interface Sql {
  readonly text: string;
  readonly values: readonly unknown[];
  /** Use a server-side prepared statement (default true; false for DDL and one-off statements). */
  readonly prepare?: boolean;
}

/** A row as the store's type parsers return it. */
export type Row = Record<string, unknown>;

/** Run one statement, returning its rows. */
export type RunQuery = (sql: Sql) => Promise<Row[]>;

/** A connection held for `LISTEN`. */
export interface Dedicated {
  readonly client: Client | PoolClient;
  /** Run a statement on this connection (serialized with the store's own statements on a shared client). */
  run(text: string): Promise<void>;
  /** Give the connection back (pool) or stop using it (client); with an error, discard it. */
  release(err?: Error): void;
  /** Whether this is the caller's single client, which the store must not close. */
  readonly shared: boolean;
}

/** The store's view of its connections. */
export interface Db {
  /** Run one statement in its own implicit transaction. */
  query: RunQuery;
  /** Run `fn` inside `BEGIN ISOLATION LEVEL READ COMMITTED ... COMMIT` on one connection. */
  transaction<T>(fn: (query: RunQuery) => Promise<T>): Promise<T>;
  /** A connection for `LISTEN`. */
  dedicated(): Promise<Dedicated>;
  /** End the pool when the store owns it. */
  end(): Promise<void>;
}

const INT8 = 20;
const JSON_OID = 114;
const JSONB = 3802;
const BOOL = 16;
const INT4 = 23;

const identity = (v: string): string => v;
const parseInteger = (v: string): number => Number(v);
const parseBool = (v: string): boolean => v === 't' || v === 'true';

/**
 * Type parsers used for every statement of the store, so that global
 * `pg.types` overrides in the application (BigInt for int8, a custom JSON
 * reviver) cannot change what the store reads.
 */
const TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number) => {
    if (oid === JSONB || oid === JSON_OID) return JSON.parse;
    if (oid === INT8 || oid === INT4) return parseInteger;
    if (oid === BOOL) return parseBool;
    return identity;
  }) as CustomTypesConfig['getTypeParser'],
};

/** How many distinct statement texts get a server-side prepared statement per store. */
const MAX_PREPARED = 256;

/** Names of server-side prepared statements, by statement text. */
export class StatementNames {
  private readonly names = new Map<string, string>();
  constructor(private readonly enabled: boolean) {}

  /** The prepared statement name for `text`, or undefined to send it unnamed. */
  nameFor(text: string): string | undefined {
    if (!this.enabled) return undefined;
    const known = this.names.get(text);
    if (known !== undefined || this.names.size >= MAX_PREPARED) return known;
    const name = `tessera_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    this.names.set(text, name);
    return name;
  }
}

function config(sql: Sql, names: StatementNames): QueryConfig {
  const name = sql.prepare === false ? undefined : names.nameFor(sql.text);
  return {
    text: sql.text,
    values: sql.values as unknown[],
    types: TYPES,
    ...(name === undefined ? {} : { name }),
  };
}

/** A simple promise-chain mutex. */
function createMutex(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => {});
    return run;
  };
}

const ignore = (): void => {};

/**
 * A {@link Db} over a pool. `owned` pools are ended by {@link Db.end}.
 * @example `const db = poolDb(new pg.Pool({ connectionString }), names, true);`
 */
export function poolDb(pool: Pool, names: StatementNames, owned: boolean): Db {
  return {
    async query(sql) {
      const r = await pool.query(config(sql, names));
      return r.rows as Row[];
    },
    async transaction(fn) {
      const client = await pool.connect();
      // A connection that dies while checked out emits 'error': never let that crash the process.
      client.on('error', ignore);
      const run: RunQuery = async (sql) => (await client.query(config(sql, names))).rows as Row[];
      let released = false;
      const release = (err?: Error) => {
        if (released) return;
        released = true;
        client.removeListener('error', ignore);
        client.release(err);
      };
      try {
        await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
        const result = await fn(run);
        await client.query('COMMIT');
        release();
        return result;
      } catch (err) {
        if (isConnectionFailure(err)) {
          release(err as Error);
        } else {
          try {
            await client.query('ROLLBACK');
            release();
          } catch (rollbackErr) {
            release(rollbackErr as Error);
          }
        }
        throw err;
      }
    },
    async dedicated() {
      const client = await pool.connect();
      let released = false;
      return {
        client,
        shared: false,
        async run(text) {
          await client.query(text);
        },
        release(err) {
          if (released) return;
          released = true;
          client.release(err ?? false);
        },
      };
    },
    async end() {
      if (owned) await pool.end();
    },
  };
}

/**
 * A {@link Db} over one connected client, never closed by the store. Every
 * statement takes a mutex, so a transaction's statements are never interleaved
 * with other calls on the same connection.
 * @example `const db = clientDb(client, names);`
 */
export function clientDb(client: Client, names: StatementNames): Db {
  const exclusive = createMutex();
  const run: RunQuery = async (sql) => (await client.query(config(sql, names))).rows as Row[];
  return {
    query: (sql) => exclusive(() => run(sql)),
    transaction: (fn) =>
      exclusive(async () => {
        await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
        try {
          const result = await fn(run);
          await client.query('COMMIT');
          return result;
        } catch (err) {
          if (!isConnectionFailure(err)) await client.query('ROLLBACK').catch(ignore);
          throw err;
        }
      }),
    async dedicated() {
      return {
        client,
        shared: true,
        run: (text) => exclusive(async () => void (await client.query(text))),
        release: ignore,
      };
    },
    async end() {},
  };
}

/**
 * A {@link Db} that refuses every call: what a closed store uses.
 * @example `db = closedDb();`
 */
export function closedDb(): Db {
  const fail = async (): Promise<never> => {
    throw new StoreUnavailableError('the PostgreSQL store is closed');
  };
  return { query: fail, transaction: fail, dedicated: fail, end: async () => {} };
}
