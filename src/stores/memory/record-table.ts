/**
 * The memory store's records, kept column by column: each record owns a slot
 * number, and its fields live at that slot in a few shared arrays (data,
 * partition, index values) and typed arrays (expiry, version). A record costs
 * its key, its data and about 40 bytes, instead of an object per record with
 * a boxed number per timestamp. Reads build a fresh {@link StoredRecord}
 * around the stored, deeply frozen data, so no caller can change stored state.
 * @module
 */
import type {
  IndexValues,
  JsonObject,
  Mutation,
  StoredRecord,
  UpdateResult,
  Where,
} from '../contract.js';
import { deepFreeze } from '../shared/frozen.js';
import { matchesWhereOf, mutateData, mutateIndex } from '../shared/semantics.js';
import { checkPartition, type SyncTable } from '../shared/sync-engine.js';

/** Shared by every record without index values. */
const NO_INDEX: IndexValues = Object.freeze({});
/** `expiresAt` of a record that never expires (real expiries are >= 0). */
const NEVER = -1;
const INITIAL_SLOTS = 1024;

/** Index changes of one write, reported to the index keeper. */
export type IndexListener = (
  collection: string,
  key: string,
  before: IndexValues,
  after: IndexValues,
) => void;

/** A {@link SyncTable} with iteration, for list, lookup and sweep. */
export interface RecordTable extends SyncTable {
  /** Keys of a collection, in insertion order (empty for an unknown collection). */
  keys(collection: string): IterableIterator<string>;
  /** Collections that hold or held records. */
  collections(): IterableIterator<string>;
  /** The expiry of a record (`null`: none; `undefined`: no such record). */
  expiresAt(collection: string, key: string): number | null | undefined;
  /**
   * `Store.update` without `orCreate`, on checked arguments: the record is
   * looked up once and written in place.
   * @throws InvalidInputError for a partition other than the record's, or a mutation the record refuses
   */
  update(
    collection: string,
    key: string,
    partition: string,
    mutation: Mutation,
    where: Where | undefined,
  ): UpdateResult;
}

function isEmpty(index: IndexValues): boolean {
  for (const _ in index) return false;
  return true;
}

/**
 * Freeze the data {@link mutateData} built from deeply frozen data: the object
 * itself, and only the values the mutation put there (every other value is the
 * previous version's, frozen already).
 */
function freezeMutated(next: JsonObject, m: Mutation): JsonObject {
  Object.freeze(next);
  if (m.set !== undefined) for (const k in m.set) deepFreeze(next[k]);
  if (m.add !== undefined) for (const k in m.add) deepFreeze(next[k]);
  if (m.remove !== undefined) for (const k in m.remove) deepFreeze(next[k]);
  return next;
}

/**
 * Create an empty record table.
 * @param onIndex - called on every write and removal whose index values change
 * @example `const table = createRecordTable(() => {}); syncPut(table, input, 'insert', now);`
 */
export function createRecordTable(onIndex: IndexListener): RecordTable {
  const slots = new Map<string, Map<string, number>>();
  const data: Array<JsonObject | undefined> = [];
  const partitions: Array<string | undefined> = [];
  const indexes: Array<IndexValues | undefined> = [];
  let expires = new Float64Array(INITIAL_SLOTS);
  let versions = new Float64Array(INITIAL_SLOTS);
  const free: number[] = [];
  let used = 0;

  const allocate = (): number => {
    const reused = free.pop();
    if (reused !== undefined) return reused;
    if (used === expires.length) {
      const size = used + (used >> 1);
      const e = new Float64Array(size);
      e.set(expires);
      expires = e;
      const v = new Float64Array(size);
      v.set(versions);
      versions = v;
    }
    return used++;
  };

  const recordAt = (collection: string, key: string, slot: number): StoredRecord => {
    const e = expires[slot] as number;
    return {
      collection,
      key,
      partition: partitions[slot] as string,
      data: data[slot] as JsonObject,
      expiresAt: e === NEVER ? null : e,
      index: indexes[slot] as IndexValues,
      version: versions[slot] as number,
    };
  };

  /** Keep `record` at `slot`, whose index values were `before`. */
  const keep = (slot: number, record: StoredRecord, before: IndexValues): void => {
    // Index values unchanged by a mutation arrive as the stored (frozen) object.
    const after =
      record.index === before
        ? before
        : isEmpty(record.index)
          ? NO_INDEX
          : deepFreeze(record.index);
    data[slot] = deepFreeze(record.data);
    partitions[slot] = record.partition;
    indexes[slot] = after;
    expires[slot] = record.expiresAt === null ? NEVER : record.expiresAt;
    versions[slot] = record.version;
    if (after !== before) onIndex(record.collection, record.key, before, after);
  };

  return {
    read(collection, key) {
      const slot = slots.get(collection)?.get(key);
      return slot === undefined ? null : recordAt(collection, key, slot);
    },
    write(record) {
      let map = slots.get(record.collection);
      if (map === undefined) {
        map = new Map();
        slots.set(record.collection, map);
      }
      let slot = map.get(record.key);
      const before = slot === undefined ? NO_INDEX : (indexes[slot] as IndexValues);
      if (slot === undefined) {
        slot = allocate();
        map.set(record.key, slot);
      }
      keep(slot, record, before);
    },
    update(collection, key, partition, mutation, where) {
      const slot = slots.get(collection)?.get(key);
      if (slot === undefined) return { ok: false, current: null };
      if (partitions[slot] !== partition)
        checkPartition(recordAt(collection, key, slot), partition);
      // Conditions and mutation read the columns: no record is built unless one is returned.
      const e = expires[slot] as number;
      const expiresAt = e === NEVER ? null : e;
      const version = versions[slot] as number;
      const before = data[slot] as JsonObject;
      if (!matchesWhereOf(version, expiresAt, before, where)) {
        return { ok: false, current: recordAt(collection, key, slot) };
      }
      const index = indexes[slot] as IndexValues;
      const next = freezeMutated(mutateData(before, mutation), mutation);
      const nextIndex = mutateIndex(index, mutation);
      const nextExpiresAt = mutation.expiresAt === undefined ? expiresAt : mutation.expiresAt;
      const record: StoredRecord = {
        collection,
        key,
        partition,
        data: next,
        expiresAt: nextExpiresAt,
        index: nextIndex,
        version: version + 1,
      };
      if (nextIndex === index) {
        // The common case (counters, flags): only data, expiry and version change.
        data[slot] = next;
        expires[slot] = nextExpiresAt === null ? NEVER : nextExpiresAt;
        versions[slot] = version + 1;
      } else {
        keep(slot, record, index);
      }
      return { ok: true, record, created: false };
    },
    remove(collection, key) {
      const map = slots.get(collection);
      const slot = map?.get(key);
      if (map === undefined || slot === undefined) return;
      const before = indexes[slot] as IndexValues;
      map.delete(key);
      data[slot] = undefined;
      partitions[slot] = undefined;
      indexes[slot] = undefined;
      free.push(slot);
      if (before !== NO_INDEX) onIndex(collection, key, before, NO_INDEX);
    },
    keys(collection) {
      return (slots.get(collection) ?? new Map<string, number>()).keys();
    },
    collections() {
      return slots.keys();
    },
    expiresAt(collection, key) {
      const slot = slots.get(collection)?.get(key);
      if (slot === undefined) return undefined;
      const e = expires[slot] as number;
      return e === NEVER ? null : e;
    },
  };
}
