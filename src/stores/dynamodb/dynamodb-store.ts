/**
 * The DynamoDB store over the AWS SDK v3: one table for every collection
 * (see `table-design.ts`), each primitive one conditional write (or one
 * `TransactWriteItems` for `transact`), with the shared reference engine
 * deciding whenever DynamoDB's native condition is not the whole story (see
 * `engine.ts`).
 * @module
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { InvalidInputError, StoreUnavailableError } from '../../core/errors.js';
import type { RecordRef, StoredRecord } from '../contract.js';
import { createLocalEvents } from '../shared/local-events.js';
import {
  checkCollection,
  checkIndexName,
  checkIndexValue,
  checkNow,
  checkRef,
  checkSweepOptions,
} from '../shared/validate.js';
import type { Item } from './attribute-values.js';
import { deleteRecord } from './delete.js';
import type { EngineContext } from './engine.js';
import { createSender, type DynamoDBSendClient, toStoreError } from './errors.js';
import { createTableCodec, type RecordCodec } from './item-codec.js';
import { type ItemLayout, layoutCodec } from './layout.js';
import { findInLayout, listLayout } from './layout-pages.js';
import type { DynamoStore, DynamoStoreOptions } from './options.js';
import { findInTable, listTable } from './pages.js';
import { readItems } from './reads.js';
import { migrateSchema } from './schema.js';
import { type SweepCursor, sweepTable } from './sweep.js';
import {
  checkTableName,
  DEFAULT_INDEX_PREFIX,
  DEFAULT_TABLE_NAME,
  DEFAULT_TTL_GRACE_SECONDS,
  indexNames as indexNamesFor,
} from './table-design.js';
import { transactRecords } from './transact.js';
import { putRecord, updateRecord } from './writes.js';

const MAX_TTL_GRACE_SECONDS = 10 * 365 * 24 * 3600;

function resolveClient(options: DynamoStoreOptions): {
  client: DynamoDBSendClient;
  owned: boolean;
} {
  if (options.client !== undefined) {
    const c = options.client as { send?: unknown };
    if (typeof c !== 'object' || c === null || typeof c.send !== 'function') {
      throw new TypeError('client must be a DynamoDBClient or DynamoDBDocumentClient');
    }
    if (options.endpoint !== undefined || options.region !== undefined) {
      throw new TypeError('give either client or endpoint/region, not both');
    }
    return { client: options.client, owned: false };
  }
  if (options.endpoint !== undefined) {
    if (typeof options.endpoint !== 'string' || !/^https?:\/\/[^\s]+$/.test(options.endpoint)) {
      throw new TypeError('endpoint must be an http(s) URL');
    }
  }
  if (options.region !== undefined && (typeof options.region !== 'string' || !options.region)) {
    throw new TypeError('region must be a non-empty string');
  }
  const client = new DynamoDBClient({
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.region === undefined
      ? options.endpoint === undefined
        ? {}
        : { region: process.env.AWS_REGION ?? 'us-east-1' }
      : { region: options.region }),
    // The store retries itself: refused requests, and requests whose outcome
    // is unknown, since every write is applied at most once (write-ids.ts).
    maxAttempts: 1,
  });
  return { client, owned: true };
}

function resolveLayouts(
  layouts: DynamoStoreOptions['layouts'],
  tableName: string | null,
): Map<string, { layout: ItemLayout; codec: RecordCodec }> {
  const out = new Map<string, { layout: ItemLayout; codec: RecordCodec }>();
  if (layouts === undefined) return out;
  if (typeof layouts !== 'object' || layouts === null) {
    throw new TypeError('layouts must map collection names to item layouts');
  }
  for (const [collection, layout] of Object.entries(layouts)) {
    try {
      checkCollection(collection);
    } catch {
      throw new TypeError(`layouts: "${collection}" is not a valid collection name`);
    }
    if (typeof layout !== 'object' || layout === null || typeof layout.decode !== 'function') {
      throw new TypeError(`layouts.${collection} must be an ItemLayout`);
    }
    checkTableName(layout.tableName, `layouts.${collection}.tableName`);
    if (layout.tableName === tableName) {
      throw new TypeError(`layouts.${collection} must use another table than ${tableName}`);
    }
    out.set(collection, { layout, codec: layoutCodec(layout) });
  }
  return out;
}

/**
 * Create a DynamoDB store. The factory sends nothing: call `migrate()` once
 * (it creates the table if missing, idempotently) or point the store at a
 * table created by the `TesseraTable` CDK construct.
 *
 * Notes:
 * - `events` is in-process only (DynamoDB has no pub/sub): processes sharing a
 *   table do not see each other's messages, so caches in front of a DynamoDB
 *   store must use short TTLs for cross-process invalidation.
 * - Keys are listed in DynamoDB's order (UTF-8 bytes), which equals the memory
 *   store's except between characters above U+FFFF and U+E000..U+FFFF. A key
 *   may be at most 1024 bytes of UTF-8 (DynamoDB's sort key limit).
 * - Index lookups are confirmed against the base item (consistent read); a
 *   record whose index value just changed may be missing from a lookup for
 *   the GSI's propagation delay.
 * - Numbers in data are stored as DynamoDB numbers (decimal): an `inc` on a
 *   field holding a fraction follows decimal arithmetic.
 * - Every write applies at most once, whatever the client's retry settings:
 *   a copy re-sent after it was applied (an SDK retry after a lost answer, or
 *   the store's own) is refused and answered from the item (see `write-ids.ts`
 *   for the precise guarantee); deletes and `transact` are transactions with a
 *   `ClientRequestToken`. So the store also re-sends writes whose outcome is
 *   unknown (a 5xx, a timeout), within `retry.maxAttempts`.
 * - Network failures, timeouts, 5xx answers and throttling beyond the retries
 *   throw `StoreUnavailableError`; other failures `StoreError` with the SDK's
 *   error as `cause`; bad input `InvalidInputError`; repeated lost races
 *   `ConflictError`.
 *
 * @param options - `{ client }` (a DynamoDBClient or DynamoDBDocumentClient you
 *   own) or `{ endpoint?, region? }`, plus `tableName` (default `tessera`),
 *   `indexPrefix` (default `gsi`), `ttlGraceSeconds` (default 300), `layouts`,
 *   `retry`, `migrateMode` (default `'create'`), `migrateTimeoutMs` (default 300000)
 * @throws TypeError / RangeError for bad options
 * @example
 * ```ts
 * import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
 * import { createDynamoStore } from 'tessera/stores/dynamodb';
 * const store = createDynamoStore({ client: new DynamoDBClient({}), tableName: 'tessera' });
 * await store.migrate();
 * ```
 */
export function createDynamoStore(options: DynamoStoreOptions = {}): DynamoStore {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('options must be an object');
  }
  const tableName = options.tableName === null ? null : (options.tableName ?? DEFAULT_TABLE_NAME);
  if (tableName !== null) checkTableName(tableName);
  const indexNames = indexNamesFor(options.indexPrefix ?? DEFAULT_INDEX_PREFIX);
  const ttlGraceSeconds = options.ttlGraceSeconds ?? DEFAULT_TTL_GRACE_SECONDS;
  if (
    !Number.isSafeInteger(ttlGraceSeconds) ||
    ttlGraceSeconds < 0 ||
    ttlGraceSeconds > MAX_TTL_GRACE_SECONDS
  ) {
    throw new RangeError(`ttlGraceSeconds must be an integer in 0..${MAX_TTL_GRACE_SECONDS}`);
  }
  const migrateMode = options.migrateMode ?? 'create';
  if (migrateMode !== 'create' && migrateMode !== 'verify') {
    throw new TypeError("migrateMode must be 'create' or 'verify'");
  }
  const migrateTimeoutMs = options.migrateTimeoutMs ?? 300_000;
  if (!Number.isSafeInteger(migrateTimeoutMs) || migrateTimeoutMs < 1) {
    throw new RangeError('migrateTimeoutMs must be a positive integer (ms)');
  }
  const layouts = resolveLayouts(options.layouts, tableName);
  if (tableName === null && layouts.size === 0) {
    throw new TypeError('tableName: null needs at least one layout');
  }
  const { client, owned } = resolveClient(options);
  const rawSend = createSender(client, options.retry);

  let closed = false;
  const send: EngineContext['send'] = (command, o) => {
    if (closed) return Promise.reject(new StoreUnavailableError('the DynamoDB store is closed'));
    return rawSend(command, o);
  };
  const tableCodec = tableName === null ? null : createTableCodec({ tableName, ttlGraceSeconds });
  const ctx: EngineContext = {
    send,
    returnValues: { supported: false },
    ttlSeconds: (expiresAt) => Math.ceil(expiresAt / 1000) + ttlGraceSeconds,
  };
  /** The generic table's codec, for a collection without a layout. */
  const generic = (collection: string): RecordCodec => {
    if (tableCodec === null) {
      throw new InvalidInputError(
        `collection ${collection} has no layout, and this store has no generic table (tableName: null)`,
        'collection',
      );
    }
    return tableCodec;
  };
  const codecFor = (collection: string): RecordCodec =>
    layouts.get(collection)?.codec ?? generic(collection);
  const sweepCursors = new Map<string, SweepCursor>();
  const cursorOf = (table: string): SweepCursor => {
    let c = sweepCursors.get(table);
    if (c === undefined) {
      c = { start: undefined };
      sweepCursors.set(table, c);
    }
    return c;
  };

  /** Run one store operation, mapping every failure to a typed error. */
  const run = async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    try {
      if (closed) throw new StoreUnavailableError('the DynamoDB store is closed');
      return await fn();
    } catch (err) {
      throw toStoreError(err, operation, tableName ?? 'of a layout');
    }
  };

  const store: DynamoStore = {
    kind: 'dynamodb',
    tableName,
    indexNames: Object.freeze([...indexNames]),
    events: createLocalEvents(),

    migrate: () =>
      run('migrate', () =>
        migrateSchema(ctx, {
          tableName,
          indexNames,
          mode: migrateMode,
          timeoutMs: migrateTimeoutMs,
          layouts: [...layouts.values()].map((l) => l.layout),
        }),
      ),

    get: (ref: RecordRef) =>
      run('get', async () => {
        checkRef(ref);
        const codec = codecFor(ref.collection);
        const out = await send<{ Item?: Item }>(
          new GetItemCommand({
            TableName: codec.tableName,
            Key: codec.key(ref.collection, ref.key),
            ConsistentRead: true,
          }),
          { idempotent: true },
        );
        return out.Item === undefined ? null : codec.decode(out.Item, ref.collection);
      }),

    getMany: (refs) =>
      run('getMany', async () => {
        if (!Array.isArray(refs)) throw new InvalidInputError('refs must be an array', 'refs');
        for (const r of refs) checkRef(r);
        if (refs.length === 0) return [];
        const items = await readItems(ctx, codecFor, refs);
        return items.map((item, i): StoredRecord | null =>
          item === null ? null : codecFor(refs[i]!.collection).decode(item, refs[i]!.collection),
        );
      }),

    put: (record, o) =>
      run('put', () => {
        if (typeof o !== 'object' || o === null) {
          throw new InvalidInputError('options must be an object', 'options');
        }
        checkRef(record);
        return putRecord(ctx, codecFor(record.collection), record, o.mode, o.now, o.where);
      }),

    update: (ref, mutation, o = {}) =>
      run('update', () => {
        checkRef(ref);
        return updateRecord(ctx, codecFor(ref.collection), ref, mutation, o);
      }),

    delete: (ref, where) =>
      run('delete', () => {
        checkRef(ref);
        return deleteRecord(ctx, codecFor(ref.collection), ref, where);
      }),

    transact: (ops, now) => run('transact', () => transactRecords(ctx, codecFor, ops, now)),

    list: (collection, o = {}) =>
      run('list', async () => {
        checkCollection(collection);
        const l = layouts.get(collection);
        return l === undefined
          ? listTable(ctx, generic(collection), collection, o)
          : listLayout(ctx, l.codec, collection, o);
      }),

    findByIndex: (collection, name, value, o = {}) =>
      run('findByIndex', async () => {
        checkCollection(collection);
        checkIndexName(name);
        checkIndexValue(value);
        const l = layouts.get(collection);
        return l === undefined
          ? findInTable(ctx, generic(collection), indexNames, collection, name, value, o)
          : findInLayout(ctx, l.codec, l.layout, collection, name, value, o);
      }),

    sweep: (now, o = {}) =>
      run('sweep', async () => {
        checkNow(now);
        const [limit, graceMs] = checkSweepOptions(o);
        const cutoff = now - graceMs;
        let n =
          tableCodec === null || tableName === null
            ? 0
            : await sweepTable(ctx, tableCodec, cursorOf(tableName), cutoff, limit);
        for (const [collection, l] of layouts) {
          if (n >= limit) break;
          n += await sweepTable(ctx, l.codec, cursorOf(l.layout.tableName), cutoff, limit - n, {
            layout: l.layout,
            collection,
          });
        }
        return n;
      }),

    async close() {
      if (closed) return;
      closed = true;
      if (owned) client.destroy?.();
    },
  };
  return store;
}
