/**
 * The in-memory store: every primitive runs synchronously inside one turn of
 * the event loop, which makes it atomic within the process. For tests, for
 * single-process deployments that can lose state on restart, and as the
 * reference the other backends are measured against.
 * @module
 */
import type {
  FieldCondition,
  ListOptions,
  Page,
  RecordInput,
  RecordRef,
  Store,
  StoredRecord,
} from '../contract.js';
import { createLocalEvents } from '../shared/local-events.js';
import { compareKeys, decodeCursor, encodeCursor, matchesField } from '../shared/semantics.js';
import {
  type SyncTable,
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
} from '../shared/validate.js';

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Reserved for future use. */
  readonly name?: string;
}

/** Shared by every record without index values. */
const NO_INDEX = Object.freeze({}) as StoredRecord['index'];

/**
 * The record as kept: a fresh object of one fixed shape (so every record
 * shares one hidden class) and one empty index object shared by all records
 * without index values.
 */
function compact(record: StoredRecord): StoredRecord {
  const partition = record.partition;
  let empty = true;
  for (const _ in record.index) {
    empty = false;
    break;
  }
  return {
    collection: record.collection,
    key: record.key,
    partition,
    data: record.data,
    expiresAt: record.expiresAt,
    index: empty ? NO_INDEX : record.index,
    version: record.version,
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Create an in-memory store. Records are frozen on write, so reads return
 * them without copying and callers cannot change stored state.
 *
 * @example
 * ```ts
 * import { createMemoryStore } from 'tessera/stores/memory';
 * const store = createMemoryStore();
 * await store.migrate();
 * ```
 */
export function createMemoryStore(_options: MemoryStoreOptions = {}): Store {
  const collections = new Map<string, Map<string, StoredRecord>>();
  const indexes = new Map<string, Set<string>>();
  const idxKey = (c: string, name: string, value: string) => `${c}\u0000${name}\u0000${value}`;

  const table: SyncTable = {
    read: (c, k) => collections.get(c)?.get(k) ?? null,
    write(record) {
      const frozen = deepFreeze(compact(record));
      let map = collections.get(record.collection);
      if (!map) {
        map = new Map();
        collections.set(record.collection, map);
      }
      const old = map.get(record.key);
      if (old) unindex(old);
      map.set(record.key, frozen);
      for (const [name, value] of Object.entries(frozen.index)) {
        const id = idxKey(frozen.collection, name, value);
        let set = indexes.get(id);
        if (!set) {
          set = new Set();
          indexes.set(id, set);
        }
        set.add(frozen.key);
      }
    },
    remove(c, k) {
      const map = collections.get(c);
      const old = map?.get(k);
      if (!map || !old) return;
      unindex(old);
      map.delete(k);
    },
  };

  function unindex(record: StoredRecord): void {
    for (const [name, value] of Object.entries(record.index)) {
      const id = idxKey(record.collection, name, value);
      const set = indexes.get(id);
      set?.delete(record.key);
      if (set?.size === 0) indexes.delete(id);
    }
  }

  function page(keys: Iterable<string>, collection: string, options: ListOptions): Page {
    const limit = checkLimit(options.limit);
    checkFieldConditions(options.fields);
    const after = decodeCursor(options.cursor);
    const map = collections.get(collection);
    const sorted = [...keys].filter((k) => after === null || k > after).sort(compareKeys);
    const records: StoredRecord[] = [];
    let last: string | null = null;
    let scanned = 0;
    for (const k of sorted) {
      const r = map?.get(k);
      scanned++;
      last = k;
      if (r && matchesAll(r, options.fields)) records.push(r);
      if (records.length === limit) break;
    }
    const more = scanned < sorted.length;
    return { records, cursor: more && last !== null ? encodeCursor(last) : null };
  }

  const events = createLocalEvents();

  const store: Store = {
    kind: 'memory',
    events,
    async migrate() {},
    async get(ref: RecordRef) {
      checkRef(ref);
      return table.read(ref.collection, ref.key);
    },
    async getMany(refs) {
      for (const r of refs) checkRef(r);
      return refs.map((r) => table.read(r.collection, r.key));
    },
    async put(record: RecordInput, options) {
      return syncPut(table, record, options.mode, options.now, options.where);
    },
    async update(ref, mutation, options) {
      return syncUpdate(table, ref, mutation, options);
    },
    async delete(ref, where) {
      return syncDelete(table, ref, where);
    },
    async transact(ops, now) {
      return syncTransact(table, ops, now);
    },
    async list(collection, options = {}) {
      checkCollection(collection);
      return page(collections.get(collection)?.keys() ?? [], collection, options);
    },
    async findByIndex(collection, name, value, options = {}) {
      checkCollection(collection);
      checkIndexName(name);
      checkIndexValue(value);
      return page(indexes.get(idxKey(collection, name, value)) ?? [], collection, options);
    },
    async sweep(now, options = {}) {
      checkNow(now);
      const limit = options.limit ?? 1000;
      const cutoff = now - (options.graceMs ?? 0);
      let n = 0;
      for (const map of collections.values()) {
        for (const r of map.values()) {
          if (n >= limit) return n;
          if (r.expiresAt !== null && r.expiresAt <= cutoff) {
            table.remove(r.collection, r.key);
            n++;
          }
        }
      }
      return n;
    },
    async close() {},
  };
  return store;
}

function matchesAll(r: StoredRecord, fields: readonly FieldCondition[] | undefined): boolean {
  for (const c of fields ?? []) if (!matchesField(r.data, c)) return false;
  return true;
}
