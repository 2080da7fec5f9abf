/**
 * Options and the public type of the DynamoDB store.
 * @module
 */
import type { Store } from '../contract.js';
import type { DynamoDBSendClient, RetryOptions } from './errors.js';
import type { ItemLayout } from './layout.js';

/** Options shared by both ways of giving the store a client. */
export interface DynamoStoreCommonOptions {
  /**
   * Table of every collection without a layout (default `tessera`); `null`
   * for a store of layout collections only (any other collection is then
   * refused with `InvalidInputError`).
   */
  readonly tableName?: string | null;
  /** Prefix of the four lookup indexes `<prefix>1`..`<prefix>4` (default `gsi`). */
  readonly indexPrefix?: string;
  /**
   * Seconds between a record's `expiresAt` and the TTL attribute written
   * beside it (default 300). DynamoDB deletes an item some time after its TTL;
   * validity never depends on it (the core checks `expiresAt`).
   */
  readonly ttlGraceSeconds?: number;
  /**
   * Collections stored in other tables, with their own item layout (for
   * example the @access-tokens/core table: see `createAccessTokensSeedLayout`).
   */
  readonly layouts?: Readonly<Record<string, ItemLayout>>;
  /** Retries of throttled requests (defaults: 8 attempts, 25 ms doubling to 2 s, full jitter). */
  readonly retry?: RetryOptions;
  /**
   * What `migrate()` does when the table is missing: create it with its
   * indexes and TTL (`'create'`, the default), or fail (`'verify'`, for tables
   * that infrastructure code owns, such as the CDK constructs).
   */
  readonly migrateMode?: 'create' | 'verify';
  /** Longest `migrate()` waits for a table or index to become ACTIVE, ms (default 300000). */
  readonly migrateTimeoutMs?: number;
}

/** Use a client the application already has; the store never destroys it. */
export interface DynamoStoreClientOptions extends DynamoStoreCommonOptions {
  /**
   * A `DynamoDBClient` (`@aws-sdk/client-dynamodb`) or `DynamoDBDocumentClient`
   * (`@aws-sdk/lib-dynamodb`). The store sends low-level commands and does its
   * own marshalling, so the document client's translate options do not matter.
   */
  readonly client: DynamoDBSendClient;
  readonly endpoint?: undefined;
  readonly region?: undefined;
}

/** Let the store create (and own) a `DynamoDBClient`. */
export interface DynamoStoreEndpointOptions extends DynamoStoreCommonOptions {
  readonly client?: undefined;
  /** Endpoint URL (e.g. `http://127.0.0.1:8000` for DynamoDB Local); default AWS's. */
  readonly endpoint?: string;
  /** Region (default from the environment / AWS config). */
  readonly region?: string;
}

/** Options of `createDynamoStore`. */
export type DynamoStoreOptions = DynamoStoreClientOptions | DynamoStoreEndpointOptions;

/** The DynamoDB store: a {@link Store} plus what it was configured with. */
export interface DynamoStore extends Store {
  readonly kind: 'dynamodb';
  /** The generic table's name (null for a store of layouts only). */
  readonly tableName: string | null;
  /** The names of the four lookup indexes. */
  readonly indexNames: readonly string[];
}
