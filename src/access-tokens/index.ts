/**
 * `tessera/access-tokens`: personal access tokens (API keys) on any Tessera
 * store, with the semantics of `@access-tokens/core` and its bugs fixed.
 * @module
 */
export {
  type AccessTokens,
  createAccessTokens,
  MAX_OVERLAP_SECONDS,
} from './access-tokens.js';
export { BOOTSTRAP_KEY } from './bootstrap.js';
export {
  CHECKSUM_LENGTH,
  createTokenCodec,
  DEFAULT_PREFIX,
  generateTokenId,
  isTokenId,
  MAX_TOKEN_LENGTH,
  type ParsedToken,
  TOKEN_ID_LENGTH,
  TOKEN_ID_PATTERN,
  type TokenCodec,
  type TokenCodecOptions,
  tokenChecksum,
} from './format.js';
export {
  DEFAULT_CACHE_MAX_ENTRIES,
  DEFAULT_CACHE_TTL_MS,
  DEFAULT_LAST_USED_INTERVAL_SECONDS,
  DEFAULT_RETAIN_EXPIRED_SECONDS,
} from './options.js';
export { type PhcProblem, phcProblem } from './phc.js';
export type {
  AccessToken,
  AccessTokensOptions,
  BatchLoadResult,
  IssueInput,
  ListInput,
  RegisterInput,
  RolesUpdate,
  SecretHash,
  TokenFormat,
  TokenPage,
  UpdateInput,
  VerifyCacheOptions,
  VerifyFailureReason,
  VerifyResult,
} from './types.js';
export { MAX_OWNER_LENGTH, MAX_ROLE_LENGTH, MAX_ROLES } from './validate.js';
