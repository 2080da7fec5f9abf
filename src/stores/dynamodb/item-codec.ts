/**
 * Records ⇄ items of the generic Tessera table (see `table-design.ts`), and
 * the per-collection codec interface the store's engine works through (the
 * generic table, or an existing table with its own layout).
 * @module
 */
import { InvalidInputError, StoreError } from '../../core/errors.js';
import type { IndexValues, JsonObject, StoredRecord } from '../contract.js';
import { fromAttr, type Item, isNativeData, toAttr, utf8Bytes } from './attribute-values.js';
import type { Expr } from './expressions.js';
import {
  INDEX_SLOT_ATTRIBUTES,
  PARTITION_KEY,
  partitionKeyOf,
  SORT_KEY,
  TTL_ATTRIBUTE,
  WRITE_ID_ATTRIBUTES,
} from './table-design.js';
import {
  type Applied,
  appliedIn,
  CREATED_BY_ATTRIBUTE,
  itemStamps,
  keptStamps,
} from './write-ids.js';

/** One write of a codec: what to send (the caller adds the condition). */
export type CodecWrite =
  | { readonly kind: 'put'; readonly item: Item }
  | {
      readonly kind: 'update';
      readonly key: Item;
      readonly updateExpression: string;
    };

/**
 * How the store maps one collection's records to items. The store's engine
 * (read-modify-write, transactions, pages) works through this interface, so
 * the generic table and existing-table layouts share it.
 */
export interface RecordCodec {
  /** Table the collection lives in. */
  readonly tableName: string;
  /** Whether the engine may compile conditions and mutations natively (generic table). */
  readonly native: boolean;
  /** Item key of a record. @throws InvalidInputError when the key cannot be stored */
  key(collection: string, key: string): Item;
  /** Record key of an item's key attributes. */
  keyOf(item: Item): string;
  /** Decode an item. @throws StoreError for an item that is not a record */
  decode(item: Item, collection: string): StoredRecord;
  /**
   * The write that makes the stored item equal `record` (on top of `current`,
   * the raw item read), by call `id` (see `write-ids.ts`; `created`: the
   * write creates the record).
   */
  write(
    record: StoredRecord,
    e: Expr,
    current: Item | null,
    id: string,
    created: boolean,
  ): CodecWrite;
  /** Whether an item holds call `id`'s write (see `write-ids.ts`). */
  applied(item: Item | null, id: string): Applied | null;
  /** A condition that holds only while the item is exactly `current` (null: absent). */
  pin(e: Expr, current: Item | null): string;
}

/** Options of {@link createTableCodec}. */
export interface TableCodecOptions {
  readonly tableName: string;
  /** Seconds between `expiresAt` and the TTL attribute. */
  readonly ttlGraceSeconds: number;
}

/** Index entries of a record, as slot values in index-name order. */
export function slotValues(collection: string, index: IndexValues): string[] {
  return Object.keys(index)
    .sort()
    .map((name) => `${collection}#${name}#${index[name]}`);
}

function readIndex(item: Item, collection: string): IndexValues {
  const prefix = `${collection}#`;
  const entries: Array<[string, string]> = [];
  for (const slot of INDEX_SLOT_ATTRIBUTES) {
    const s = item[slot]?.S;
    if (s === undefined) continue;
    if (!s.startsWith(prefix)) throw new StoreError(`index slot ${slot} of ${s} is malformed`);
    const rest = s.slice(prefix.length);
    const sep = rest.indexOf('#');
    if (sep <= 0) throw new StoreError(`index slot ${slot} is malformed`);
    entries.push([rest.slice(0, sep), rest.slice(sep + 1)]);
  }
  entries.sort(([a], [b]) => (a < b ? -1 : 1));
  return Object.fromEntries(entries);
}

/** Largest sort key DynamoDB accepts, in UTF-8 bytes. */
export const MAX_SORT_KEY_BYTES = 1024;

/**
 * The codec of the generic Tessera table.
 * @example `const codec = createTableCodec({ tableName: 'tessera', ttlGraceSeconds: 300 });`
 */
export function createTableCodec(options: TableCodecOptions): RecordCodec & {
  /** The TTL attribute value for an expiry. */
  ttlSeconds(expiresAt: number): number;
  /**
   * Every attribute of a record's item, for a full Put: write id `id` in `w`,
   * `kept` in `w1`.., `createdBy` in `wc`.
   */
  encode(record: StoredRecord, id: string, kept?: readonly string[], createdBy?: string): Item;
} {
  const ttlSeconds = (expiresAt: number) => Math.ceil(expiresAt / 1000) + options.ttlGraceSeconds;

  const key = (collection: string, k: string): Item => {
    if (utf8Bytes(k) > MAX_SORT_KEY_BYTES) {
      throw new InvalidInputError(
        `key must be at most ${MAX_SORT_KEY_BYTES} bytes of UTF-8 in the DynamoDB store`,
        'key',
      );
    }
    return { [PARTITION_KEY]: { S: partitionKeyOf(collection, k) }, [SORT_KEY]: { S: k } };
  };

  const encode = (
    record: StoredRecord,
    id: string,
    kept: readonly string[] = [],
    createdBy?: string,
  ): Item => {
    const item: Item = {
      ...key(record.collection, record.key),
      p: { S: record.partition },
      v: { N: String(record.version) },
      w: { S: id },
    };
    kept.forEach((s, i) => {
      item[WRITE_ID_ATTRIBUTES[i + 1] as string] = { S: s };
    });
    if (createdBy !== undefined) item[CREATED_BY_ATTRIBUTE] = { S: createdBy };
    if (isNativeData(record.data)) item.d = toAttr(record.data);
    else item.dj = { S: JSON.stringify(record.data) };
    if (record.expiresAt !== null) {
      item.x = { N: String(record.expiresAt) };
      item[TTL_ATTRIBUTE] = { N: String(ttlSeconds(record.expiresAt)) };
    }
    slotValues(record.collection, record.index).forEach((v, i) => {
      item[INDEX_SLOT_ATTRIBUTES[i]!] = { S: v };
    });
    return item;
  };

  const decode = (item: Item, collection: string): StoredRecord => {
    const k = item[SORT_KEY]?.S;
    const partition = item.p?.S;
    const version = item.v?.N;
    if (k === undefined || partition === undefined || version === undefined) {
      throw new StoreError(`DynamoDB item ${collection}/${k ?? '?'} is not a Tessera record`);
    }
    let data: JsonObject;
    if (item.d?.M !== undefined) {
      data = fromAttr(item.d) as JsonObject;
    } else if (item.dj?.S !== undefined) {
      try {
        data = JSON.parse(item.dj.S) as JsonObject;
      } catch (err) {
        throw new StoreError(`DynamoDB item ${collection}/${k} holds malformed data`, {
          cause: err,
        });
      }
    } else {
      throw new StoreError(`DynamoDB item ${collection}/${k} has no data`);
    }
    const x = item.x?.N;
    return {
      collection,
      key: k,
      partition,
      data,
      expiresAt: x === undefined ? null : Number(x),
      index: readIndex(item, collection),
      version: Number(version),
    };
  };

  return {
    tableName: options.tableName,
    native: true,
    ttlSeconds,
    encode,
    key,
    keyOf: (item) => item[SORT_KEY]?.S ?? '',
    decode,
    write: (record, _e, current, id, created) => ({
      kind: 'put',
      item: encode(
        record,
        id,
        keptStamps(itemStamps(current)),
        created ? id : current?.[CREATED_BY_ATTRIBUTE]?.S,
      ),
    }),
    applied: appliedIn,
    pin(e, current) {
      if (current === null) return `attribute_not_exists(${e.name(PARTITION_KEY)})`;
      const w = current.w;
      if (w !== undefined) return `${e.name('w')} = ${e.value(w)}`;
      // An item written by something else (no write id): pin its version and absence of w.
      return `${e.name('v')} = ${e.value(current.v ?? { N: '0' })} AND attribute_not_exists(${e.name('w')})`;
    },
  };
}
