/**
 * `tessera/stores/dynamodb`: the DynamoDB store, over the AWS SDK v3
 * (`@aws-sdk/client-dynamodb`, an optional peer dependency).
 *
 * @example
 * ```ts
 * import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
 * import { createDynamoStore } from 'tessera/stores/dynamodb';
 * const store = createDynamoStore({ client: new DynamoDBClient({}), tableName: 'tessera' });
 * await store.migrate();
 * ```
 * @module
 */
export { createDynamoStore } from './dynamodb-store.js';
export { type DynamoDBSendClient, type RetryOptions, toStoreError } from './errors.js';
export type { ItemLayout } from './layout.js';
export type {
  DynamoStore,
  DynamoStoreClientOptions,
  DynamoStoreCommonOptions,
  DynamoStoreEndpointOptions,
  DynamoStoreOptions,
} from './options.js';
export {
  ACCESS_TOKENS_SEED_FIELDS,
  type AccessTokensSeedLayoutOptions,
  createAccessTokensSeedLayout,
  type SeedField,
  type SeedFieldKind,
} from './pat-layout.js';
export { tableDefinition } from './schema.js';
export {
  ACCESS_TOKENS_SEED_KEY,
  ACCESS_TOKENS_SEED_TTL,
  COLLECTION_SHARDS,
  collectionPartitionKeys,
  DEFAULT_INDEX_PREFIX,
  DEFAULT_TABLE_NAME,
  DEFAULT_TTL_GRACE_SECONDS,
  INDEX_SLOT_ATTRIBUTES,
  indexNames,
  PARTITION_KEY,
  partitionKeyOf,
  SORT_KEY,
  TESSERA_TABLE_ENV,
  TTL_ATTRIBUTE,
} from './table-design.js';
export { createDynamoStoreFromEnv, createDynamoStoreFromUrl, parseDynamoUrl } from './url.js';
