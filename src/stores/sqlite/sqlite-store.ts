/**
 * The SQLite store over better-sqlite3: the embedded default. Every write runs
 * the shared sync engine inside one `BEGIN IMMEDIATE` transaction, so each
 * primitive is one atomic step even across processes sharing the file; an
 * `update` of a common shape first tries one `UPDATE ... RETURNING` statement
 * (see `fast-update.ts`), which is atomic on its own.
 * @module
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { InvalidInputError, StoreUnavailableError } from '../../core/errors.js';
import type {
  FieldCondition,
  ListOptions,
  Mutation,
  Page,
  PutMode,
  RecordInput,
  RecordRef,
  StoredRecord,
  TransactOp,
  UpdateOptions,
  Where,
} from '../contract.js';
import { createLocalEvents } from '../shared/local-events.js';
import { decodeCursor, encodeCursor, matchesField } from '../shared/semantics.js';
import {
  checkUpdate,
  syncDelete,
  syncPut,
  syncTransact,
  syncUpdate,
} from '../shared/sync-engine.js';
import {
  checkCollection,
  checkFieldConditions,
  checkIndexName,
  checkIndexValue,
  checkLimit,
  checkNow,
  checkRef,
  checkSweepOptions,
} from '../shared/validate.js';
import { toStoreError } from './errors.js';
import { createFastUpdater, type FastUpdater } from './fast-update.js';
import { openDatabase, type SqliteStore, type SqliteStoreOptions } from './options.js';
import { enableWal, migrateSchema, tableNames } from './schema.js';
import {
  createSyncTable,
  prepareStatements,
  type RecordRow,
  removeRow,
  rowToRecord,
  type Statements,
} from './statements.js';
import { startSweeperLoop } from './sweeper.js';

/** Rows scanned at most by one filtered `list`/`findByIndex` call before it returns a partial page. */
const SCAN_BUDGET = 5000;
/** Rows deleted per sweep transaction at most. */
const SWEEP_BATCH = 200;

function matchesAll(r: StoredRecord, fields: readonly FieldCondition[]): boolean {
  for (const c of fields) if (!matchesField(r.data, c)) return false;
  return true;
}

/**
 * Create a SQLite store over better-sqlite3. The factory does no schema work:
 * call `migrate()` once before use (it is idempotent and safe to run from
 * several processes at once).
 *
 * Connection settings:
 * - always (also on a `database` you pass in, because atomicity across
 *   processes needs them): `busy_timeout = busyTimeoutMs` now, and
 *   `journal_mode = WAL` for a file database when `migrate()` runs (WAL is a
 *   persistent property of the file);
 * - only on a database the store opened from `path`: `synchronous = NORMAL`
 *   (durable in WAL mode except on power loss within the last commit) and
 *   `foreign_keys = ON`.
 *
 * Notes:
 * - `events` is in-process only (SQLite has no pub/sub): processes sharing a
 *   file do not see each other's messages, so caches in front of a SQLite store
 *   must use short TTLs for cross-process invalidation.
 * - Keys are listed in SQLite's `BINARY` order (UTF-8 bytes, i.e. code-point
 *   order), which equals the memory store's UTF-16 order except between
 *   characters above U+FFFF and U+E000..U+FFFF.
 * - A failed lock after the busy timeout, an I/O error or a closed database
 *   throws `StoreUnavailableError`; any other driver failure `StoreError` with
 *   the driver's error as `cause`; bad input `InvalidInputError`.
 *
 * @param options - `{ database }` or `{ path }`, plus `tablePrefix` (default
 *   `'tessera_'`) and `busyTimeoutMs` (default 5000 ms)
 * @throws TypeError when options are missing, both or malformed;
 *   RangeError for a bad `busyTimeoutMs`;
 *   `ERR_TESSERA_STORE_UNAVAILABLE` when `path` cannot be opened
 * @example
 * ```ts
 * import { createSqliteStore } from 'tessera/stores/sqlite';
 * const store = createSqliteStore({ path: './tessera.db' });
 * await store.migrate();
 * const stopSweeper = store.startSweeper();
 * ```
 */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const names = tableNames(options?.tablePrefix ?? 'tessera_');
  const busyTimeoutMs = options?.busyTimeoutMs ?? 5000;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new RangeError('busyTimeoutMs must be a non-negative integer (ms)');
  }
  const { db, owned } = openDatabase(options);
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    if (owned) {
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
    }
  } catch (err) {
    const mapped = toStoreError(err, 'open', db.open);
    if (owned && db.open) db.close();
    throw mapped;
  }

  let closed = false;
  let stmts: Statements | null = null;
  const s = (): Statements => {
    stmts ??= prepareStatements(db, names);
    return stmts;
  };
  let fastUpdater: FastUpdater | null = null;
  const fast = (): FastUpdater => {
    fastUpdater ??= createFastUpdater(db, names);
    return fastUpdater;
  };
  const table = createSyncTable(s);
  const sweepers = new Set<() => void>();

  /** Run `fn` now, mapping every failure to a typed error. */
  const guard = <T>(operation: string, fn: () => T): T => {
    try {
      if (closed) throw new StoreUnavailableError('the SQLite store is closed');
      return fn();
    } catch (err) {
      throw toStoreError(err, operation, db.open);
    }
  };

  const txPut = db.transaction(
    (record: RecordInput, mode: PutMode, now: number, where: Where | undefined) =>
      syncPut(table, record, mode, now, where),
  );
  const txUpdate = db.transaction(
    (ref: RecordRef, mutation: Mutation, opts: UpdateOptions | undefined) =>
      syncUpdate(table, ref, mutation, opts),
  );
  const txDelete = db.transaction((ref: RecordRef, where: Where | undefined) =>
    syncDelete(table, ref, where),
  );
  const txTransact = db.transaction((ops: readonly TransactOp[], now: number) =>
    syncTransact(table, ops, now),
  );
  const txSweep = db.transaction((cutoff: number, n: number): number => {
    const st = s();
    const rows = st.expired.all(cutoff, n) as Array<Pick<RecordRow, 'collection' | 'key' | 'idx'>>;
    for (const r of rows) removeRow(st, r.collection, r.key, r.idx);
    return rows.length;
  });
  const readTx = db.transaction((fn: () => unknown) => fn());
  /** Run reads in one deferred transaction: one consistent snapshot (in WAL mode). */
  const inRead = <T>(fn: () => T): T => readTx.deferred(fn) as T;

  /**
   * One keyset page in key order: fetch batches after the cursor, filter in JS
   * with the shared semantics, stop at `limit` records or the scan budget.
   */
  const page = (
    options: ListOptions,
    fetch: (after: string, n: number) => RecordRow[],
    anyAfter: (after: string) => boolean,
    confirm: (r: StoredRecord) => boolean,
  ): Page => {
    const limit = checkLimit(options.limit);
    checkFieldConditions(options.fields);
    const fields = options.fields ?? [];
    let after = decodeCursor(options.cursor) ?? '';
    const batch = fields.length === 0 ? limit + 1 : Math.max(limit + 1, 256);
    return inRead((): Page => {
      const records: StoredRecord[] = [];
      let scanned = 0;
      for (;;) {
        const rows = fetch(after, batch);
        for (const [i, row] of rows.entries()) {
          scanned++;
          after = row.key;
          const r = rowToRecord(row);
          if (confirm(r) && matchesAll(r, fields)) records.push(r);
          if (records.length === limit || scanned >= SCAN_BUDGET) {
            const more = i < rows.length - 1 || anyAfter(after);
            return { records, cursor: more ? encodeCursor(after) : null };
          }
        }
        if (rows.length < batch) return { records, cursor: null };
      }
    });
  };

  const store: SqliteStore = {
    kind: 'sqlite',
    events: createLocalEvents(),

    async migrate() {
      guard('migrate', () => {
        enableWal(db);
        migrateSchema(db, names);
      });
    },

    async get(ref) {
      checkRef(ref);
      return guard('get', () => table.read(ref.collection, ref.key));
    },

    async getMany(refs) {
      if (!Array.isArray(refs)) throw new InvalidInputError('refs must be an array', 'refs');
      for (const r of refs) checkRef(r);
      return guard('getMany', () => inRead(() => refs.map((r) => table.read(r.collection, r.key))));
    },

    async put(record, options) {
      return guard('put', () =>
        txPut.immediate(record, options?.mode, options?.now, options?.where),
      );
    },

    async update(ref, mutation, options = {}) {
      // guard(), inlined: this is the hot path of every token use.
      try {
        if (closed) throw new StoreUnavailableError('the SQLite store is closed');
        const partition = checkUpdate(ref, mutation, options);
        // One UPDATE ... RETURNING when the shape allows; the general path decides the rest.
        return (
          fast().update(ref, partition, mutation, options) ??
          txUpdate.immediate(ref, mutation, options)
        );
      } catch (err) {
        throw toStoreError(err, 'update', db.open);
      }
    },

    async delete(ref, where) {
      return guard('delete', () => txDelete.immediate(ref, where));
    },

    async transact(ops, now) {
      return guard('transact', () => txTransact.immediate(ops, now));
    },

    async list(collection, options = {}) {
      checkCollection(collection);
      return guard('list', () =>
        page(
          options,
          (after, n) => s().listPage.all(collection, after, n) as RecordRow[],
          (after) => s().anyAfter.get(collection, after) !== undefined,
          () => true,
        ),
      );
    },

    async findByIndex(collection, name, value, options = {}) {
      checkCollection(collection);
      checkIndexName(name);
      checkIndexValue(value);
      return guard('findByIndex', () =>
        page(
          options,
          (after, n) => s().indexPage.all(collection, name, value, after, n) as RecordRow[],
          (after) => s().anyIndexAfter.get(collection, name, value, after) !== undefined,
          (r) => r.index[name] === value,
        ),
      );
    },

    async sweep(now, options = {}) {
      checkNow(now);
      const [limit, graceMs] = checkSweepOptions(options);
      const cutoff = now - graceMs;
      let total = 0;
      while (total < limit) {
        const want = Math.min(SWEEP_BATCH, limit - total);
        const n = guard('sweep', () => txSweep.immediate(cutoff, want));
        total += n;
        if (n < want) break;
        // Let the event loop (and other connections) in between batches.
        if (total < limit) await yieldToLoop();
      }
      return total;
    },

    startSweeper(sweeperOptions) {
      const stop = startSweeperLoop((now, o) => store.sweep(now, o), sweeperOptions, 'sqlite');
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
      stmts = null;
      fastUpdater = null;
      if (owned && db.open) {
        try {
          db.close();
        } catch (err) {
          throw toStoreError(err, 'close', db.open);
        }
      }
    },
  };
  return store;
}
