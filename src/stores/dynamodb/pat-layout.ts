/**
 * The @access-tokens/core table as an existing-table layout: records of one
 * collection are items of that package's table, in that package's format, so
 * Tessera and the seed package can read each other's tokens.
 *
 * The seed's item: partition key `tokenId` (no sort key); `secretPhc`,
 * `owner` (S); `isAdmin` (BOOL); `roles` (String Set, absent when empty);
 * `createdAt`, `lastUsedAt`, `revokedAt` and `expiresAt` in epoch **seconds**
 * (`expiresAt` is the token's expiry and the table's TTL attribute; 0 or null
 * means none).
 *
 * The mapping, by data field (the field names are the seed's, as
 * `tessera/access-tokens` stores them):
 * - `tokenId` is the key (not stored twice);
 * - each mapped field ⇄ one attribute, by kind: `string`, `boolean`,
 *   `number` as S, BOOL, N; `epochSeconds`: ms since epoch ⇄ seconds (floor);
 *   `stringSet`: distinct non-empty strings ⇄ a String Set; `null` ⇄ no
 *   attribute (noted in `tessera`), as the seed leaves unset fields out: its
 *   `revoke` is conditioned on `attribute_not_exists(revokedAt)` and its
 *   `restore` on `attribute_exists(revokedAt)`, so a NULL there would make a
 *   token Tessera wrote unrevocable by the seed (a NULL the seed wrote reads as null);
 * - so `expiresAt` (the token's expiry) is the seed's TTL attribute, and
 *   DynamoDB deletes an expired token as it did for the seed; an `expiresAt`
 *   of 0 that the seed wrote reads as null (the seed's "no expiry").
 *
 * What the seed format cannot hold rides in one extra attribute, `tessera` (a
 * JSON string the seed's schema ignores): the version and the write ids of
 * the latest Tessera writes (so a re-sent write is recognized, see
 * `write-ids.ts`, without a top-level attribute of Tessera's own), the
 * record's own `expiresAt` (its garbage-collection time), sub-second
 * remainders of timestamps, the order of a role list, empty lists and nulls, fields
 * without an attribute (or whose value does not fit its kind), the partition,
 * and index values. An item the seed wrote (no `tessera`) reads as version 1,
 * with the record expiry taken from its `expiresAt`, and the index values its
 * mirrored fields imply. So every record reads back exactly as written, and an
 * item the seed wrote or changed later reads as the seed means it (a
 * timestamp remainder is used only while its seconds still match).
 * @module
 */
import { InvalidInputError, StoreError } from '../../core/errors.js';
import type { IndexValues, Json, JsonObject, StoredRecord } from '../contract.js';
import { compareKeys } from '../shared/semantics.js';
import { checkField } from '../shared/validate.js';
import { fromAttr, type Item, isNativeNumber, utf8Bytes } from './attribute-values.js';
import type { ItemLayout } from './layout.js';
import { ACCESS_TOKENS_SEED_KEY, ACCESS_TOKENS_SEED_TTL, checkTableName } from './table-design.js';

/** How a data field is stored. */
export type SeedFieldKind = 'string' | 'boolean' | 'number' | 'epochSeconds' | 'stringSet';

/** Where and how one data field is stored. */
export interface SeedField {
  /** The item attribute. */
  readonly attribute: string;
  readonly kind: SeedFieldKind;
}

/** The data fields of the @access-tokens/core item, by their seed names. */
export const ACCESS_TOKENS_SEED_FIELDS: Readonly<Record<string, SeedField>> = Object.freeze({
  secretPhc: { attribute: 'secretPhc', kind: 'string' },
  owner: { attribute: 'owner', kind: 'string' },
  isAdmin: { attribute: 'isAdmin', kind: 'boolean' },
  roles: { attribute: 'roles', kind: 'stringSet' },
  createdAt: { attribute: 'createdAt', kind: 'epochSeconds' },
  lastUsedAt: { attribute: 'lastUsedAt', kind: 'epochSeconds' },
  revokedAt: { attribute: 'revokedAt', kind: 'epochSeconds' },
  expiresAt: { attribute: ACCESS_TOKENS_SEED_TTL, kind: 'epochSeconds' },
});

/** Options of {@link createAccessTokensSeedLayout}. */
export interface AccessTokensSeedLayoutOptions {
  /** The existing table. */
  readonly tableName: string;
  /** Its partition key (default `tokenId`); the record key is its value. */
  readonly keyAttribute?: string;
  /**
   * The data field that always equals the key (default `tokenId`; `null` for
   * none). It is not stored twice; a record whose field differs is refused.
   */
  readonly keyField?: string | null;
  /** Data field → attribute and kind (default {@link ACCESS_TOKENS_SEED_FIELDS}). */
  readonly fields?: Readonly<Record<string, SeedField>>;
  /**
   * For items without the `tessera` attribute (written by the seed): the
   * attribute whose epoch seconds give the record's `expiresAt` (default
   * `expiresAt`; `null`: none).
   */
  readonly legacyExpiryAttribute?: string | null;
  /** The attribute for what the seed format cannot hold (default `tessera`). */
  readonly metaAttribute?: string;
  /**
   * Index names that mirror a string data field (`{ owner: { field: 'owner' } }`):
   * a record's index value, when it has one, equals the field (writes that
   * differ are refused); items the seed wrote get it from the field; and
   * `gsiName` (a GSI whose partition key is the field's attribute, such as the
   * seed README's `owner-index`) makes lookups query it (every hit confirmed)
   * instead of scanning.
   */
  readonly indexes?: Readonly<
    Record<string, { readonly field: string; readonly gsiName?: string }>
  >;
}

interface Meta {
  v?: number;
  /** The write id of the latest Tessera write (see `write-ids.ts`). */
  w?: string;
  /** The write ids of the Tessera writes before it, newest first. */
  wh?: string[];
  p?: string;
  x?: number | null;
  noKeyField?: true;
  ms?: Record<string, number>;
  order?: Record<string, string[]>;
  empty?: string[];
  nulls?: string[];
  extra?: JsonObject;
  index?: Record<string, string>;
  /** The expiry attribute (`expiresAt`, seconds) as this write left it: if another writer (the seed's
   * `restore` or `update`) changes it later, `x` is stale and the record is never swept by Tessera. */
  s?: string | null;
}

const ATTR_RE = /^[A-Za-z0-9_.-]{1,255}$/;
const KINDS = new Set<SeedFieldKind>(['string', 'boolean', 'number', 'epochSeconds', 'stringSet']);

function checkAttr(name: unknown, what: string): asserts name is string {
  if (typeof name !== 'string' || !ATTR_RE.test(name)) {
    throw new TypeError(`${what} must be 1..255 characters of A-Za-z0-9_.-`);
  }
}

function isStringSet(v: Json): v is string[] {
  return (
    Array.isArray(v) &&
    v.every((s) => typeof s === 'string' && s.length > 0) &&
    new Set(v).size === v.length
  );
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(b);
  return a.every((x) => s.has(x));
}

/** The attribute value of a mapped field, or undefined when the value does not fit its kind. */
function encodeField(
  f: SeedField,
  field: string,
  value: Json,
  meta: Meta,
): Item[string] | null | undefined {
  if (value === null) {
    meta.nulls = [...(meta.nulls ?? []), field];
    return null;
  }
  switch (f.kind) {
    case 'string':
      return typeof value === 'string' ? { S: value } : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? { BOOL: value } : undefined;
    case 'number':
      return typeof value === 'number' && isNativeNumber(value) ? { N: String(value) } : undefined;
    case 'epochSeconds': {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) return undefined;
      // A 0 is noted too: the seed reads an expiry of 0 as none (see decodeField).
      if (value % 1000 !== 0 || value === 0) meta.ms = { ...meta.ms, [field]: value };
      return { N: String(Math.floor(value / 1000)) };
    }
    case 'stringSet': {
      if (!isStringSet(value)) return undefined;
      if (value.length === 0) {
        meta.empty = [...(meta.empty ?? []), field];
        return null;
      }
      const sorted = [...value].sort(compareKeys);
      if (sorted.some((s, i) => s !== value[i]))
        meta.order = { ...meta.order, [field]: [...value] };
      return { SS: [...value] };
    }
  }
}

/** The data value of a mapped attribute. */
function decodeField(
  f: SeedField,
  field: string,
  av: Item[string],
  meta: Meta | undefined,
  zeroIsNull: boolean,
): Json {
  if (av.NULL !== undefined) return null;
  if (f.kind === 'epochSeconds' && av.N !== undefined) {
    const s = Number(av.N);
    const ms = meta?.ms?.[field];
    if (ms !== undefined && Math.floor(ms / 1000) === s) return ms;
    // The seed's expiry (its TTL attribute) of 0 means none, unless Tessera wrote exactly 0.
    return s === 0 && zeroIsNull ? null : s * 1000;
  }
  if (f.kind === 'stringSet' && av.SS !== undefined) {
    const order = meta?.order?.[field];
    return order !== undefined && sameMembers(order, av.SS)
      ? [...order]
      : [...av.SS].sort(compareKeys);
  }
  return fromAttr(av);
}

/**
 * A layout for the @access-tokens/core table: give it to
 * `createDynamoStore({ layouts: { <collection>: layout } })`.
 *
 * @throws TypeError for bad options (names, kinds, overlapping attributes)
 * @example
 * ```ts
 * const layout = createAccessTokensSeedLayout({
 *   tableName: 'my-tokens',
 *   indexes: { owner: { field: 'owner' } },
 * });
 * const store = createDynamoStore({ client, tableName: null, layouts: { pat: layout } });
 * ```
 */
export function createAccessTokensSeedLayout(options: AccessTokensSeedLayoutOptions): ItemLayout {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('options must be an object');
  }
  checkTableName(options.tableName);
  const tableName = options.tableName;
  const keyAttribute = options.keyAttribute ?? ACCESS_TOKENS_SEED_KEY;
  checkAttr(keyAttribute, 'keyAttribute');
  const keyField = options.keyField === undefined ? 'tokenId' : options.keyField;
  const fields = options.fields ?? ACCESS_TOKENS_SEED_FIELDS;
  const legacyExpiry =
    options.legacyExpiryAttribute === undefined
      ? ACCESS_TOKENS_SEED_TTL
      : options.legacyExpiryAttribute;
  if (legacyExpiry !== null) checkAttr(legacyExpiry, 'legacyExpiryAttribute');
  const metaAttribute = options.metaAttribute ?? 'tessera';
  checkAttr(metaAttribute, 'metaAttribute');
  if (metaAttribute === keyAttribute)
    throw new TypeError('metaAttribute must differ from keyAttribute');
  const used = new Set<string>([keyAttribute, metaAttribute]);
  if (keyField !== null) {
    try {
      checkField(keyField);
    } catch {
      throw new TypeError(`keyField: "${keyField}" is not a valid field name`);
    }
    if (fields[keyField] !== undefined) throw new TypeError('keyField must not also be in fields');
  }
  for (const [field, f] of Object.entries(fields)) {
    try {
      checkField(field);
    } catch {
      throw new TypeError(`fields: "${field}" is not a valid field name`);
    }
    checkAttr(f?.attribute, `fields.${field}.attribute`);
    if (!KINDS.has(f.kind)) throw new TypeError(`fields.${field}.kind is not a known kind`);
    if (used.has(f.attribute)) throw new TypeError(`attribute ${f.attribute} is used twice`);
    used.add(f.attribute);
  }
  const indexes = options.indexes ?? {};
  for (const [name, ix] of Object.entries(indexes)) {
    if (typeof ix !== 'object' || ix === null || fields[ix.field]?.kind !== 'string') {
      throw new TypeError(`indexes.${name}.field must name a data field of kind string`);
    }
    if (ix.gsiName !== undefined) checkTableName(ix.gsiName, `indexes.${name}.gsiName`);
  }
  const managed = [...used].filter((a) => a !== keyAttribute);

  const encode = (record: StoredRecord, writeId: string, earlier: readonly string[]): Item => {
    const meta: Meta = { v: record.version, w: writeId, x: record.expiresAt };
    if (earlier.length > 0) meta.wh = [...earlier];
    if (record.partition !== record.key) meta.p = record.partition;
    const attrs: Item = {};
    const extra: JsonObject = {};
    if (keyField !== null) {
      const k = record.data[keyField];
      if (k === undefined) meta.noKeyField = true;
      else if (k !== record.key) {
        throw new InvalidInputError(
          `in table ${tableName} data field ${keyField} is the key: it must equal ${JSON.stringify(record.key)}`,
          keyField,
        );
      }
    }
    for (const [field, value] of Object.entries(record.data)) {
      if (field === keyField) continue;
      const f = fields[field];
      const av = f === undefined ? undefined : encodeField(f, field, value, meta);
      if (f !== undefined && av !== undefined) {
        if (av !== null) attrs[f.attribute] = av;
      } else {
        extra[field] = value;
      }
    }
    if (Object.keys(extra).length > 0) meta.extra = extra;
    for (const [name, ix] of Object.entries(indexes)) {
      const iv = record.index[name];
      if (iv !== undefined && iv !== record.data[ix.field]) {
        throw new InvalidInputError(
          `in table ${tableName} index ${name} mirrors data field ${ix.field}: they must be equal`,
          'index',
        );
      }
    }
    if (Object.keys(record.index).length > 0) meta.index = { ...record.index };
    if (legacyExpiry !== null) meta.s = attrs[legacyExpiry]?.N ?? null;
    attrs[metaAttribute] = { S: JSON.stringify(meta) };
    return attrs;
  };

  const readMeta = (item: Item, key: string): Meta | undefined => {
    const raw = item[metaAttribute]?.S;
    if (raw === undefined) return undefined;
    try {
      const m = JSON.parse(raw) as unknown;
      if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new Error('not an object');
      return m as Meta;
    } catch (err) {
      throw new StoreError(`item ${key} of ${tableName} has a malformed ${metaAttribute}`, {
        cause: err,
      });
    }
  };

  const decode = (item: Item, collection: string): StoredRecord => {
    const key = item[keyAttribute]?.S;
    if (key === undefined || key === '') {
      throw new StoreError(`an item of ${tableName} has no string ${keyAttribute}`);
    }
    const meta = readMeta(item, key);
    const data: JsonObject = {};
    if (keyField !== null && meta?.noKeyField !== true) data[keyField] = key;
    for (const [field, f] of Object.entries(fields)) {
      const av = item[f.attribute];
      if (av !== undefined) {
        data[field] = decodeField(f, field, av, meta, f.attribute === legacyExpiry);
      } else if (meta?.empty?.includes(field)) data[field] = [];
      else if (meta?.nulls?.includes(field)) data[field] = null;
    }
    for (const [k, v] of Object.entries(meta?.extra ?? {})) if (!(k in data)) data[k] = v;
    let expiresAt: number | null = null;
    if (meta !== undefined) {
      expiresAt = typeof meta.x === 'number' ? meta.x : null;
      // Another writer changed the token's expiry since: the recorded cleanup time is
      // stale, so keep the record (DynamoDB's TTL on the seed attribute still collects it).
      if (legacyExpiry !== null && 's' in meta && (item[legacyExpiry]?.N ?? null) !== meta.s) {
        expiresAt = null;
      }
    } else if (legacyExpiry !== null) {
      const n = item[legacyExpiry]?.N;
      if (n !== undefined && Number(n) > 0) expiresAt = Number(n) * 1000;
    }
    // Index values: as written (in the meta attribute), or for an item the seed
    // wrote, what its mirrored fields imply.
    const index: Record<string, string> = { ...(meta?.index ?? {}) };
    if (meta === undefined) {
      for (const [name, ix] of Object.entries(indexes)) {
        const dv = data[ix.field];
        if (typeof dv === 'string' && dv !== '') index[name] = dv;
      }
    }
    const sortedIndex = Object.fromEntries(
      Object.entries(index).sort(([a], [b]) => (a < b ? -1 : 1)),
    ) as IndexValues;
    return {
      collection,
      key,
      partition: meta?.p ?? key,
      data,
      expiresAt,
      index: sortedIndex,
      version: typeof meta?.v === 'number' ? meta.v : 1,
    };
  };

  return Object.freeze({
    tableName,
    keyAttributes: [keyAttribute],
    managedAttributes: managed,
    itemKey(key: string): Item {
      if (utf8Bytes(key) > 2048) {
        throw new InvalidInputError('key must be at most 2048 bytes of UTF-8 in this table', 'key');
      }
      return { [keyAttribute]: { S: key } };
    },
    recordKey(item: Item): string {
      const k = item[keyAttribute]?.S;
      if (k === undefined) throw new StoreError(`an item of ${tableName} has no ${keyAttribute}`);
      return k;
    },
    encode,
    decode,
    writeIds(item: Item): string[] {
      const key = item[keyAttribute]?.S ?? '?';
      const meta = readMeta(item, key);
      const ids = [meta?.w, ...(Array.isArray(meta?.wh) ? meta.wh : [])];
      return ids.filter((id): id is string => typeof id === 'string');
    },
    indexQuery(name: string) {
      const ix = indexes[name];
      if (ix?.gsiName === undefined) return undefined;
      return { indexName: ix.gsiName, attribute: (fields[ix.field] as SeedField).attribute };
    },
  });
}
