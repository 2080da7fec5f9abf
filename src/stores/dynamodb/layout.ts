/**
 * Existing-table layouts: a collection whose records live in a table that
 * another package created, with that package's item format (for example the
 * @access-tokens/core table, see `pat-layout.ts`).
 *
 * The store treats such a collection through the same contract, with exact
 * reference semantics: every write reads the item (consistently), computes the
 * result with the shared engine, and writes it back with a condition that pins
 * the item's whole content as read, so a concurrent change (by Tessera or by
 * the other package) makes the write fail and retry. The write ids that make
 * every write apply at most once (see `write-ids.ts`) live in the layout's
 * own attributes (`encode` and `writeIds`), so the item keeps its package's
 * format. Attributes the layout does not manage are left untouched. `list` and index lookups without a GSI
 * scan the table (such tables are small: tokens, not events).
 * @module
 */
import type { StoredRecord } from '../contract.js';
import { attrType, type Item } from './attribute-values.js';
import type { Expr } from './expressions.js';
import type { RecordCodec } from './item-codec.js';
import { appliedInStamps, keptStamps, layoutStamp } from './write-ids.js';

/** How one collection maps to the items of an existing table. */
export interface ItemLayout {
  /** The table. */
  readonly tableName: string;
  /** Its key attributes: the partition key, then the sort key if it has one. */
  readonly keyAttributes: readonly string[];
  /** Attributes the layout writes (never key attributes); other attributes are left as they are. */
  readonly managedAttributes: readonly string[];
  /**
   * The item key of a record key.
   * @throws InvalidInputError when the key cannot be stored in this table
   */
  itemKey(key: string): Item;
  /** The record key of an item. */
  recordKey(item: Item): string;
  /**
   * The managed attributes that store `record` (a managed attribute left out is
   * removed from the item), with write id `writeId` and, below it, the ids in
   * `earlierWriteIds` (newest first, at most three): the store recognizes a
   * re-sent write by them (see `write-ids.ts`), so they must read back through
   * {@link ItemLayout.writeIds}.
   * @throws InvalidInputError when the record does not fit the layout
   */
  encode(record: StoredRecord, writeId: string, earlierWriteIds: readonly string[]): Item;
  /** The write ids an item holds (`encode`'s `writeId`, then its `earlierWriteIds`); none for an item another package wrote. */
  writeIds(item: Item): readonly string[];
  /**
   * The record an item holds.
   * @throws StoreError when the item is not a record of this layout
   */
  decode(item: Item, collection: string): StoredRecord;
  /**
   * A global secondary index whose partition key attribute mirrors index
   * `name`, if the table has one: lookups query it and confirm every hit
   * against the base item. Without one, lookups scan.
   */
  indexQuery?(name: string): { readonly indexName: string; readonly attribute: string } | undefined;
}

const PINNABLE = new Set(['S', 'N', 'B', 'BOOL', 'SS', 'NS', 'BS']);

/** The store's codec over a layout. */
export function layoutCodec(layout: ItemLayout): RecordCodec {
  const stamps = (item: Item | null): string[] => (item === null ? [] : [...layout.writeIds(item)]);
  return {
    applied: (item, id) => appliedInStamps(stamps(item), id),
    tableName: layout.tableName,
    native: false,
    key: (_collection, key) => layout.itemKey(key),
    keyOf: (item) => layout.recordKey(item),
    decode: (item, collection) => layout.decode(item, collection),
    write(record, e: Expr, current, id, created) {
      const attrs = layout.encode(record, layoutStamp(id, created), keptStamps(stamps(current)));
      const set: string[] = [];
      const remove: string[] = [];
      for (const a of layout.managedAttributes) {
        const v = attrs[a];
        if (v === undefined) remove.push(e.name(a));
        else set.push(`${e.name(a)} = ${e.value(v)}`);
      }
      const parts: string[] = [];
      if (set.length > 0) parts.push(`SET ${set.join(', ')}`);
      if (remove.length > 0) parts.push(`REMOVE ${remove.join(', ')}`);
      return { kind: 'update', key: layout.itemKey(record.key), updateExpression: parts.join(' ') };
    },
    pin(e, current) {
      const first = layout.keyAttributes[0] as string;
      if (current === null) return `attribute_not_exists(${e.name(first)})`;
      const parts: string[] = [];
      for (const [a, v] of Object.entries(current)) {
        const t = attrType(v);
        if (t === 'NULL') parts.push(`attribute_type(${e.name(a)}, ${e.value({ S: 'NULL' })})`);
        else if (t !== undefined && PINNABLE.has(t)) parts.push(`${e.name(a)} = ${e.value(v)}`);
        else parts.push(`attribute_exists(${e.name(a)})`);
      }
      for (const a of layout.managedAttributes) {
        if (!(a in current)) parts.push(`attribute_not_exists(${e.name(a)})`);
      }
      return parts.map((p) => `(${p})`).join(' AND ');
    },
  };
}
