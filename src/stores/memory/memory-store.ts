/**
 * The in-memory store: every primitive runs synchronously inside one turn of
 * the event loop, which makes it atomic within the process. For tests, for
 * single-process deployments that can lose state on restart, and as the
 * reference the other backends are measured against.
 * @module
 */
import type {
  FieldCondition,
  IndexValues,
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
import { createRecordTable } from './record-table.js';

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Reserved for future use. */
  readonly name?: string;
}

/**
 * Create an in-memory store. Stored data is deeply frozen (a deeply frozen
 * input is kept as it is, anything else is copied first), so reads return it
 * without copying and callers cannot change stored state.
 *
 * @example
 * ```ts
 * import { createMemoryStore } from 'tessera/stores/memory';
 * const store = createMemoryStore();
 * await store.migrate();
 * ```
 */
export function createMemoryStore(_options: MemoryStoreOptions = {}): Store {
  const indexes = new Map<string, Set<string>>();
  const idxKey = (c: string, name: string, value: string) => `${c}\u0000${name}\u0000${value}`;

  const reindex = (c: string, key: string, before: IndexValues, after: IndexValues): void => {
    for (const name of Object.keys(before)) {
      const value = before[name] as string;
      if (after[name] === value) continue;
      const id = idxKey(c, name, value);
      const set = indexes.get(id);
      set?.delete(key);
      if (set?.size === 0) indexes.delete(id);
    }
    for (const name of Object.keys(after)) {
      const value = after[name] as string;
      if (before[name] === value) continue;
      const id = idxKey(c, name, value);
      let set = indexes.get(id);
      if (!set) {
        set = new Set();
        indexes.set(id, set);
      }
      set.add(key);
    }
  };
  const table = createRecordTable(reindex);

  function page(keys: Iterable<string>, collection: string, options: ListOptions): Page {
    const limit = checkLimit(options.limit);
    checkFieldConditions(options.fields);
    const after = decodeCursor(options.cursor);
    const sorted = [...keys].filter((k) => after === null || k > after).sort(compareKeys);
    const records: StoredRecord[] = [];
    let last: string | null = null;
    let scanned = 0;
    for (const k of sorted) {
      const r = table.read(collection, k);
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
      // A record found under a collection and key proves both valid (every write checked them),
      // so only a miss, or a ref with a partition, takes the full check (which throws for a bad ref).
      if (typeof ref === 'object' && ref !== null && ref.partition === undefined) {
        const found = table.read(ref.collection, ref.key);
        if (found !== null) return found;
      }
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
    async update(ref, mutation, options = {}) {
      if (options.orCreate !== undefined) return syncUpdate(table, ref, mutation, options);
      const partition = checkUpdate(ref, mutation, options);
      return table.update(ref.collection, ref.key, partition, mutation, options.where);
    },
    async delete(ref, where) {
      return syncDelete(table, ref, where);
    },
    async transact(ops, now) {
      return syncTransact(table, ops, now);
    },
    async list(collection, options = {}) {
      checkCollection(collection);
      return page(table.keys(collection), collection, options);
    },
    async findByIndex(collection, name, value, options = {}) {
      checkCollection(collection);
      checkIndexName(name);
      checkIndexValue(value);
      return page(indexes.get(idxKey(collection, name, value)) ?? [], collection, options);
    },
    async sweep(now, options = {}) {
      checkNow(now);
      const [limit, graceMs] = checkSweepOptions(options);
      const cutoff = now - graceMs;
      let n = 0;
      for (const collection of table.collections()) {
        for (const key of table.keys(collection)) {
          if (n >= limit) return n;
          const expiresAt = table.expiresAt(collection, key);
          if (expiresAt !== null && expiresAt !== undefined && expiresAt <= cutoff) {
            table.remove(collection, key);
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
