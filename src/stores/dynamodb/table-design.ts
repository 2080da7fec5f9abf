/**
 * The DynamoDB table design of the generic Tessera table, as constants shared
 * by the store (which reads and writes it, and creates it in `migrate()`) and
 * the AWS CDK constructs (which create it in a stack). Imports no SDK.
 *
 * One table holds every collection:
 *
 * | attribute | type | meaning |
 * |---|---|---|
 * | `pk` | S | partition key: `<collection>#<shard>`, the shard a hash of the record key (see {@link partitionKeyOf}) |
 * | `sk` | S | sort key: the record key (so each shard lists in key order with one consistent Query) |
 * | `p` | S | the record's partition (the group a `transact` may span) |
 * | `v` | N | version (1 on create, +1 per write) |
 * | `w` | S | write id of the latest write: random per store call (pins optimistic writes, no ABA; see {@link WRITE_ID_ATTRIBUTES}) |
 * | `w1`..`w3` | S | write ids of the three writes before it, newest first (recognizing a re-sent write) |
 * | `wc` | S | write id of the last `update ... orCreate` that created the record |
 * | `d` | M | the data, as a native Map (so `where` compiles to a `ConditionExpression`) |
 * | `dj` | S | the data as JSON, instead of `d`, when it holds values a Map cannot (see `attribute-values.ts`) |
 * | `x` | N | `expiresAt`, ms since epoch (absent: no expiry) |
 * | `ttl` | N | DynamoDB TTL, epoch seconds, a grace period after `x` (garbage collection only) |
 * | `i1`..`i4` | S | index entries `<collection>#<name>#<value>`, one per index name in name order |
 *
 * The records of one collection spread over {@link COLLECTION_SHARDS}
 * partition key values (write sharding with a calculated suffix): a reader
 * that knows a key computes its shard, so every get and write addresses one
 * item, and no collection (all action tokens, all sessions) is one hot
 * partition key. `list` queries every shard and merges them in key order.
 *
 * Global secondary indexes `<prefix>1`..`<prefix>4` (default prefix `gsi`):
 * partition key `i<n>`, sort key `sk`, projection KEYS_ONLY. They are sparse
 * (a record appears only in the slots it uses). Every hit is confirmed by a
 * consistent read of the base item, so a stale index entry never decides
 * anything.
 * @module
 */

/** Partition key attribute of the generic table (the collection and a shard). */
export const PARTITION_KEY = 'pk';
/** Partition key values each collection spreads over (part of the item format: never change it). */
export const COLLECTION_SHARDS = 16;

/**
 * The partition key value of a record in the generic table:
 * `<collection>#<shard>`, the shard (one hex digit) being the 32-bit FNV-1a
 * hash of the key's UTF-16 code units modulo {@link COLLECTION_SHARDS}.
 * @example `partitionKeyOf('action', 'k:login:alice') // 'action#7'`
 */
export function partitionKeyOf(collection: string, key: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return `${collection}#${((h >>> 0) % COLLECTION_SHARDS).toString(16)}`;
}

/**
 * Every partition key value of a collection, in shard order.
 * @example `collectionPartitionKeys('action') // ['action#0', ..., 'action#f']`
 */
export function collectionPartitionKeys(collection: string): string[] {
  return Array.from({ length: COLLECTION_SHARDS }, (_, i) => `${collection}#${i.toString(16)}`);
}

/**
 * The write-id attributes of the generic table, newest first: `w` holds the
 * write id of the latest write, `w1`..`w3` those of the writes before it.
 * Every write of the store carries the write id of its call and a condition
 * that none of these holds it, so a request re-sent after it was applied (an
 * SDK retry after a lost answer) is refused and recognized instead of applied
 * twice; see `write-ids.ts`.
 */
export const WRITE_ID_ATTRIBUTES = ['w', 'w1', 'w2', 'w3'] as const;

/** Sort key attribute of the generic table (the record key). */
export const SORT_KEY = 'sk';
/** TTL attribute of the generic table (epoch seconds). */
export const TTL_ATTRIBUTE = 'ttl';
/** Index slot attributes, one per global secondary index. */
export const INDEX_SLOT_ATTRIBUTES = ['i1', 'i2', 'i3', 'i4'] as const;
/** Default prefix of the global secondary index names (`gsi1`..`gsi4`). */
export const DEFAULT_INDEX_PREFIX = 'gsi';
/** Default table name. */
export const DEFAULT_TABLE_NAME = 'tessera';
/** Default seconds between `expiresAt` and the TTL attribute. */
export const DEFAULT_TTL_GRACE_SECONDS = 300;

const TABLE_NAME_RE = /^[A-Za-z0-9_.-]{3,255}$/;
const INDEX_PREFIX_RE = /^[A-Za-z0-9_.-]{1,250}$/;

/**
 * The global secondary index names for a prefix: `[<prefix>1, ..., <prefix>4]`.
 * @param prefix - index name prefix (default `gsi`)
 * @throws TypeError when the prefix is not 1..250 characters of `A-Za-z0-9_.-`
 * @example `indexNames('gsi') // ['gsi1', 'gsi2', 'gsi3', 'gsi4']`
 */
export function indexNames(prefix: string = DEFAULT_INDEX_PREFIX): string[] {
  if (typeof prefix !== 'string' || !INDEX_PREFIX_RE.test(prefix)) {
    throw new TypeError('indexPrefix must be 1..250 characters of A-Za-z0-9_.-');
  }
  return INDEX_SLOT_ATTRIBUTES.map((_, i) => `${prefix}${i + 1}`);
}

/**
 * Check a DynamoDB table name (3..255 characters of `A-Za-z0-9_.-`).
 * @throws TypeError for anything else
 * @example `checkTableName('tessera')`
 */
export function checkTableName(name: unknown, what = 'tableName'): asserts name is string {
  if (typeof name !== 'string' || !TABLE_NAME_RE.test(name)) {
    throw new TypeError(`${what} must be 3..255 characters of A-Za-z0-9_.-`);
  }
}

/** Key attribute of the @access-tokens/core table (the seed layout). */
export const ACCESS_TOKENS_SEED_KEY = 'tokenId';
/** TTL attribute of the @access-tokens/core table (epoch seconds). */
export const ACCESS_TOKENS_SEED_TTL = 'expiresAt';

/** Environment variables the `ActionTokens` construct sets and `ActionTokensClient` reads. */
export const ACTION_TOKENS_ENV = {
  /** The table name. */
  tableName: 'BEESOLVE_ACTION_TOKENS_TABLE_NAME',
  /** The prefix of the table's four lookup indexes (the seed named its one GSI here). */
  indexName: 'BEESOLVE_ACTION_TOKENS_INDEX_NAME',
  /**
   * The ARN (or name) of the Secrets Manager secret holding the server
   * secret(s); set by the construct, resolved by the client at cold start.
   */
  secretArn: 'TESSERA_SECRET_ARN',
  /**
   * The server secret(s) themselves, `id:secret[,id:secret...]` (first
   * active) or one bare secret: for local use, never set by the construct.
   */
  secret: 'TESSERA_SECRET',
} as const;

/** Environment variables `TesseraTable.grantAccess` sets (read by `createDynamoStoreFromEnv`). */
export const TESSERA_TABLE_ENV = {
  tableName: 'TESSERA_DYNAMODB_TABLE',
  indexPrefix: 'TESSERA_DYNAMODB_INDEX_PREFIX',
} as const;

/** Environment variable `AccessTokensTable.grantAccess` sets. */
export const ACCESS_TOKENS_TABLE_ENV = {
  tableName: 'TESSERA_ACCESS_TOKENS_TABLE',
} as const;
