/**
 * `tessera/compat/access-tokens`: a drop-in for `@access-tokens/core`'s
 * `DynamoDBPat`, on any Tessera store.
 * @module
 */
export { DynamoDBPat } from './dynamodb-pat.js';
export {
  type BatchLoadOptions,
  type BatchLoadResult,
  type CanonicalScryptOptions,
  DEFAULT_KEY_LENGTH,
  DEFAULT_SALT_LENGTH,
  DEFAULT_SCRYPT_BLOCK_SIZE,
  DEFAULT_SCRYPT_COST,
  DEFAULT_SCRYPT_MAXMEM,
  DEFAULT_SCRYPT_PARALLELIZATION,
  type DynamoDBPatConfig,
  type GenerateConfig,
  type GenerateResult,
  type IssueConfig,
  type IssueResult,
  type ListOptions,
  type PublicTokenRecord,
  type RegisterConfig,
  type RolesUpdate,
  SCRYPT_ALGORITHM_ID,
  type TokenRecord,
  type TokenUpdates,
  type ValidTokenRecord,
  type VerifyFailure,
  type VerifyFailureReason,
  type VerifyResult,
  type VerifySuccess,
} from './types.js';
