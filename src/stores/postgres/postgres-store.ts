/**
 * The PostgreSQL store over `pg`. Each primitive is one statement or one
 * transaction:
 * - `update` is one `UPDATE ... SET data = <jsonb expression> WHERE <compiled
 *   conditions> RETURNING ...` (so action-token `use()` is one round trip);
 *   with `orCreate`, an `INSERT ... ON CONFLICT DO UPDATE ... WHERE <not live>`
 *   follows when the record is absent or expired;
 * - `put` is one `INSERT ... ON CONFLICT DO UPDATE ... WHERE ...` (`insert`,
 *   `upsert`) or `UPDATE ... WHERE ...` (`replace`); `delete` one `DELETE ...
 *   WHERE ... RETURNING`;
 * - when a conditional statement touches no row, one `SELECT` reads the record
 *   to report it as `current`, and decides with the reference semantics
 *   whether the condition failed, the mutation does not apply (the
 *   `InvalidInputError` of the reference semantics), or the record changed in
 *   between (the statement runs again);
 * - `transact` takes the advisory locks of its records and `SELECT ... FOR
 *   UPDATE`s them in one `READ COMMITTED` transaction, plans with the shared
 *   sync engine, and writes in one statement.
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ConflictError,
  InvalidInputError,
  StoreUnavailableError,
  TesseraError,
} from '../../core/errors.js';
import type { FieldCondition, RecordRef, StoredRecord } from '../contract.js';
import {
  applyMutation,
  decodeCursor,
  isLive,
  matchesWhere,
  materialize,
} from '../shared/semantics.js';
import { type SyncTable, syncTransact } from '../shared/sync-engine.js';
import {
  checkCollection,
  checkFieldConditions,
  checkIndexName,
  checkIndexValue,
  checkLimit,
  checkMutation,
  checkNow,
  checkRecordInput,
  checkRef,
  checkSweepOptions,
  checkWhere,
} from '../shared/validate.js';
import { checkTransact, checkUpdateOptions, conflict, partitionError } from './checks.js';
import { closedDb, type Db, StatementNames } from './db.js';
import { isRetryable, toStoreError } from './errors.js';
import { createPostgresEvents } from './events.js';
import {
  openDb,
  type PostgresConnection,
  type PostgresStore,
  type PostgresStoreOptions,
} from './options.js';
import { pageSql, toPage } from './pages.js';
import {
  checkNotNewer,
  migrateSchema,
  SCHEMA_VERSION,
  schemaNames,
  schemaVersion,
} from './schema.js';
import {
  deleteSql,
  getManySql,
  getSql,
  insertSql,
  lockRowsSql,
  lockSql,
  replaceSql,
  rowToRecord,
  sweepSql,
  type WriteInput,
  writeSql,
} from './statements.js';
import { startSweeperLoop } from './sweeper.js';
import { createUpdateStatements } from './update-statements.js';

/** Times a conditional write runs again when the record changed between its statements. */
const MAX_RACE_LOOPS = 25;
/** Rows deleted per sweep statement at most. */
const SWEEP_BATCH = 500;

/**
 * Create a PostgreSQL store. The factory does no I/O: call `migrate()` once
 * before use (it is idempotent and safe to run from several processes at
 * once; it creates the schema, the tables and their indexes).
 *
 * Notes:
 * - Keys are listed in code-point order (columns use the `"C"` collation),
 *   which equals the memory store's order except between characters above
 *   U+FFFF and U+E000..U+FFFF.
 * - Strings in `data` must not contain NUL characters or lone surrogates
 *   (PostgreSQL's `jsonb` cannot hold them): such writes throw `InvalidInputError`.
 * - `inc` adds in float8 and writes the result in its shortest exact form; this
 *   relies on PostgreSQL's default `extra_float_digits` (1, PostgreSQL 12+).
 *   Integer counters are exact whatever the setting.
 * - Serialization failures and deadlocks (`40001`, `40P01`) are retried up to
 *   `maxRetries` times, then throw `ConflictError`. A lost or refused connection
 *   throws `StoreUnavailableError`; any other driver failure `StoreError` with
 *   the driver's error as `cause`; bad input `InvalidInputError`.
 * - `events` use `LISTEN`/`NOTIFY` on one connection held while there are
 *   subscribers (taken from the pool, or the client you passed).
 * - Requires PostgreSQL 12 or later.
 *
 * @param connection - `{ pool }` (a `pg.Pool`), `{ client }` (a connected
 *   `pg.Client`) or `{ url }` (the store creates and owns a pool)
 * @param options - `schema` (default `'tessera'`), `preparedStatements`
 *   (default true), `maxRetries` (default 10), `onError`, `onEventsReconnect`
 *   (called after events are delivered again; subscribers get the same through
 *   `subscribe`'s `onStatus`), `poolConfig`
 * @throws TypeError when the connection is missing, doubled or malformed, or the
 *   schema name is invalid; RangeError for a bad `maxRetries`
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createPostgresStore } from 'tessera/stores/postgres';
 * const store = createPostgresStore({ pool: new pg.Pool() }, { schema: 'tessera' });
 * await store.migrate();
 * const stopSweeper = store.startSweeper();
 * ```
 */
export function createPostgresStore(
  connection: PostgresConnection,
  options: PostgresStoreOptions = {},
): PostgresStore {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('options must be an object');
  }
  const names = schemaNames(options.schema ?? 'tessera');
  const maxRetries = options.maxRetries ?? 10;
  if (!Number.isSafeInteger(maxRetries) || maxRetries < 0) {
    throw new RangeError('maxRetries must be a non-negative integer');
  }
  const onError =
    options.onError ??
    ((err: unknown) => {
      process.emitWarning(`tessera postgres: ${err instanceof Error ? err.message : String(err)}`);
    });
  const opened = openDb(
    connection,
    options,
    new StatementNames(options.preparedStatements ?? true),
    onError,
  );
  let db: Db = opened;
  const updates = createUpdateStatements(names);
  let closed = false;
  const sweepers = new Set<() => void>();
  const events = createPostgresEvents({
    db: () => db,
    channel: names.channel,
    onError,
    onReconnect: options.onEventsReconnect,
  });

  /**
   * Run one primitive: map every failure to a typed error, and run it again
   * after a serialization failure or deadlock (each attempt starts over:
   * every primitive returns right after its one write, so a failed attempt
   * wrote nothing).
   */
  async function guard<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (closed) throw new StoreUnavailableError('the PostgreSQL store is closed');
        return await fn();
      } catch (err) {
        if (err instanceof TesseraError) throw err;
        if (!isRetryable(err)) throw toStoreError(err, operation);
        if (attempt >= maxRetries) {
          throw new ConflictError(
            `PostgreSQL ${operation} gave up after ${attempt + 1} serialization failures or deadlocks`,
            { cause: err },
          );
        }
        await sleep(Math.random() * Math.min(100, 2 ** attempt));
      }
    }
  }

  const readOne = async (ref: RecordRef): Promise<StoredRecord | null> => {
    const rows = await db.query(getSql(names, ref));
    return rows[0] === undefined ? null : rowToRecord(ref.collection, ref.key, rows[0]);
  };

  const store: PostgresStore = {
    kind: 'postgres',
    schema: names.schema,
    events,

    async migrate() {
      await guard('migrate', async () => {
        // Up to date (the common case at every start): one read, no lock.
        const current = await schemaVersion(db.query, names);
        checkNotNewer(current, names);
        if (current === SCHEMA_VERSION) return;
        await db.transaction((q) => migrateSchema(q, names));
      });
    },

    async get(ref) {
      checkRef(ref);
      return guard('get', () => readOne(ref));
    },

    async getMany(refs) {
      if (!Array.isArray(refs)) throw new InvalidInputError('refs must be an array', 'refs');
      for (const r of refs) checkRef(r);
      if (refs.length === 0) return [];
      return guard('getMany', async () => {
        const out: Array<StoredRecord | null> = refs.map(() => null);
        for (const row of await db.query(getManySql(names, refs))) {
          const i = (row.i as number) - 1;
          const ref = refs[i]!;
          out[i] = rowToRecord(ref.collection, ref.key, row);
        }
        return out;
      });
    },

    async put(record, options) {
      const partition = checkRecordInput(record);
      if (typeof options !== 'object' || options === null) {
        throw new InvalidInputError('put options must be an object', 'options');
      }
      const { mode, now, where } = options;
      checkNow(now);
      checkWhere(where);
      if (mode !== 'insert' && mode !== 'upsert' && mode !== 'replace') {
        throw new InvalidInputError('mode must be insert, upsert or replace', 'mode');
      }
      const input: WriteInput = {
        collection: record.collection,
        key: record.key,
        partition,
        data: record.data,
        index: record.index ?? {},
        expiresAt: record.expiresAt,
      };
      const sql =
        mode === 'replace'
          ? replaceSql(names, input, now, where)
          : insertSql(names, input, mode === 'insert' ? now : undefined);
      return guard('put', async () => {
        for (let loop = 0; loop < MAX_RACE_LOOPS; loop++) {
          const rows = await db.query(sql);
          if (rows[0] !== undefined) {
            return { ok: true, record: materialize(record, partition, rows[0].version as number) };
          }
          const current = await readOne(record);
          if (current !== null && current.partition !== partition) {
            throw partitionError(current, partition);
          }
          const live = current !== null && isLive(current, now);
          if (mode === 'insert' && live) return { ok: false, current };
          if (mode === 'replace' && (!live || !matchesWhere(current, where))) {
            return { ok: false, current };
          }
          // The record changed between the two statements: try again.
        }
        throw conflict('put');
      });
    },

    async update(ref, mutation, options = {}) {
      const partition = checkRef(ref);
      checkMutation(mutation);
      checkUpdateOptions(options);
      const { where, orCreate } = options;
      const now = options.now as number;
      const sql = updates.sql(
        ref,
        partition,
        mutation,
        where,
        orCreate === undefined ? undefined : now,
      );
      // The record orCreate makes (version from the database), computed when first needed.
      let created: StoredRecord | null | undefined;
      let createError: unknown;
      return guard('update', async () => {
        for (let loop = 0; loop < MAX_RACE_LOOPS; loop++) {
          const rows = await db.query(sql);
          const row = rows[0];
          if (row !== undefined) {
            const record = rowToRecord(ref.collection, ref.key, row, partition);
            return { ok: true, record, created: false };
          }
          if (orCreate !== undefined) {
            if (created === undefined) {
              try {
                const base = { ...orCreate, collection: ref.collection, key: ref.key };
                created = applyMutation(materialize(base, partition, 0), mutation);
              } catch (err) {
                created = null;
                createError = err;
              }
            }
            if (created !== null) {
              const inserted = await db.query(insertSql(names, created, now));
              if (inserted[0] !== undefined) {
                const version = inserted[0].version as number;
                return { ok: true, record: { ...created, version }, created: true };
              }
            }
          }
          const current = await readOne(ref);
          if (current !== null && current.partition !== partition) {
            throw partitionError(current, partition);
          }
          if (orCreate !== undefined && (current === null || !isLive(current, now))) {
            if (created === null) throw createError;
            continue; // it was live a moment ago: look again
          }
          if (current === null || !matchesWhere(current, where)) return { ok: false, current };
          // The conditions hold: either the mutation does not apply to this record (the
          // reference semantics throw InvalidInputError), or the record changed in between.
          applyMutation(current, mutation);
        }
        throw conflict('update');
      });
    },

    async delete(ref, where) {
      const partition = checkRef(ref);
      checkWhere(where);
      const sql = deleteSql(names, ref, partition, where);
      return guard('delete', async () => {
        for (let loop = 0; loop < MAX_RACE_LOOPS; loop++) {
          const rows = await db.query(sql);
          if (rows[0] !== undefined) {
            return { ok: true, previous: rowToRecord(ref.collection, ref.key, rows[0]) };
          }
          const current = await readOne(ref);
          if (current !== null && current.partition !== partition) {
            throw partitionError(current, partition);
          }
          if (current === null || !matchesWhere(current, where)) return { ok: false, current };
        }
        throw conflict('delete');
      });
    },

    async transact(ops, now) {
      const refs = checkTransact(ops, now);
      return guard('transact', () =>
        db.transaction(async (q) => {
          await q(lockSql(names, refs));
          const rows = await q(lockRowsSql(names, refs));
          const id = (c: string, k: string) => `${c}\u0000${k}`;
          const found = new Map<string, StoredRecord>();
          for (const row of rows) {
            const r = rowToRecord(row.collection as string, row.key as string, row);
            found.set(id(r.collection, r.key), r);
          }
          const written = new Map<string, StoredRecord>();
          const removed = new Map<string, RecordRef>();
          const table: SyncTable = {
            read: (c, k) => found.get(id(c, k)) ?? null,
            write: (r) => {
              removed.delete(id(r.collection, r.key));
              written.set(id(r.collection, r.key), r);
            },
            remove: (c, k) => {
              written.delete(id(c, k));
              removed.set(id(c, k), { collection: c, key: k });
            },
          };
          const result = syncTransact(table, ops, now);
          if (result.ok && written.size + removed.size > 0) {
            await q(writeSql(names, [...written.values()], [...removed.values()]));
          }
          return result;
        }),
      );
    },

    async list(collection, options = {}) {
      checkCollection(collection);
      const limit = checkLimit(options.limit);
      checkFieldConditions(options.fields);
      const fields: readonly FieldCondition[] = options.fields ?? [];
      const after = decodeCursor(options.cursor) ?? '';
      const sql = pageSql(names, { collection }, after, limit, fields);
      return guard('list', async () =>
        toPage(collection, await db.query(sql), limit, fields.length > 0),
      );
    },

    async findByIndex(collection, name, value, options = {}) {
      checkCollection(collection);
      checkIndexName(name);
      checkIndexValue(value);
      const limit = checkLimit(options.limit);
      checkFieldConditions(options.fields);
      const fields: readonly FieldCondition[] = options.fields ?? [];
      const after = decodeCursor(options.cursor) ?? '';
      const sql = pageSql(names, { collection, index: { name, value } }, after, limit, fields);
      return guard('findByIndex', async () =>
        toPage(collection, await db.query(sql), limit, fields.length > 0),
      );
    },

    async sweep(now, options = {}) {
      checkNow(now);
      const [limit, graceMs] = checkSweepOptions(options);
      const cutoff = now - graceMs;
      let total = 0;
      while (total < limit) {
        const want = Math.min(SWEEP_BATCH, limit - total);
        const rows = await guard('sweep', () => db.query(sweepSql(names, cutoff, want)));
        total += rows.length;
        if (rows.length < want) break;
      }
      return total;
    },

    startSweeper(sweeperOptions) {
      const stop = startSweeperLoop((now, o) => store.sweep(now, o), sweeperOptions, 'postgres');
      const tracked = () => {
        stop();
        sweepers.delete(tracked);
      };
      sweepers.add(tracked);
      return tracked;
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const stop of [...sweepers]) stop();
      await events.close();
      db = closedDb();
      try {
        await opened.end();
      } catch (err) {
        throw toStoreError(err, 'close');
      }
    },
  };
  return store;
}
