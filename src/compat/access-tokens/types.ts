/**
 * The public types of `@access-tokens/core` (seed 001), with its names and
 * shapes: times are Unix epoch SECONDS here, as in the seed.
 * @module
 */
import type { VerifyCacheOptions } from '../../access-tokens/types.js';
import type { Clock } from '../../core/clock.js';
import type { Keyring } from '../../core/keyring.js';
import type { Store } from '../../stores/contract.js';

/** The seed's default secret and scrypt key length, in bytes. */
export const DEFAULT_KEY_LENGTH = 32;
/** The seed's default scrypt salt length, in bytes. */
export const DEFAULT_SALT_LENGTH = 16;
/** The seed's PHC algorithm id. */
export const SCRYPT_ALGORITHM_ID = 'scrypt';
/** The seed's default scrypt cost N. */
export const DEFAULT_SCRYPT_COST = 16384;
/** The seed's default scrypt block size r. */
export const DEFAULT_SCRYPT_BLOCK_SIZE = 8;
/** The seed's default scrypt parallelization p. */
export const DEFAULT_SCRYPT_PARALLELIZATION = 1;
/** The seed's default scrypt maxmem (accepted; Tessera computes the exact need). */
export const DEFAULT_SCRYPT_MAXMEM = 32 * 1024 * 1024;

/**
 * scrypt parameters, as the seed names them. Together they must stay within
 * the core's `SCRYPT_LIMITS` (128·N·r at most 32 MiB, N·r·p at most 2^20), the
 * same bounds stored hashes are verified under.
 */
export interface CanonicalScryptOptions {
  /** N, a power of two, 2..2^17 (default 16384). */
  cost?: number;
  /** r, 1..32 (default 8). */
  blockSize?: number;
  /** p, 1..16 (default 1). */
  parallelization?: number;
  /** Accepted for compatibility; Tessera sizes scrypt's memory itself. */
  maxmem?: number;
}

/** Constructor options: the seed's, plus `store` (and friends) to run on any Tessera store. */
export interface DynamoDBPatConfig {
  /**
   * The existing @access-tokens/core table (partition key `tokenId`): required without
   * `store`, unused with it.
   */
  tableName?: string;
  /**
   * The seed's DynamoDB clients (a `DynamoDBClient` / `DynamoDBDocumentClient`, or anything
   * with their `send`): `docClient` wins over `ddbClient`; without either, a `DynamoDBClient`
   * is created from the environment (and destroyed by `close()`). Unused with `store`.
   */
  ddbClient?: { send(command: never, options?: never): Promise<unknown> };
  docClient?: { send(command: never, options?: never): Promise<unknown> };
  /**
   * Tessera addition, table mode: a GSI of the table whose partition key is `owner` (such as
   * the seed README's `owner-index`), so `listByOwner` queries it instead of scanning.
   */
  ownerIndexName?: string;
  /** Token prefix (default `pat_`). */
  tokenPrefix?: string;
  /** Secret size and scrypt hash size in bytes, 16..64 (default 32, as the seed's code). */
  keyLength?: number;
  /** scrypt salt size in bytes, 8..64 (default 16). */
  saltLength?: number;
  scryptOptions?: CanonicalScryptOptions;
  /** PHC string of the bootstrap secret. */
  bootstrapPhc?: string;
  /** A Tessera store; without it, tokens live in the DynamoDB table `tableName`. */
  store?: Store;
  /**
   * Server keys: needed only to verify `$hmac-sha256$` hashes and for `hash: 'hmac-sha256'`
   * (never for the default scrypt), in either mode.
   */
  keyring?: Keyring;
  /** Time source (default: the system clock). */
  clock?: Clock;
  /** Store collection (default `pat`). */
  collection?: string;
  /** Hash of new secrets (default `scrypt`, as the seed). */
  hash?: 'scrypt' | 'sha256' | 'hmac-sha256';
  /** Write `lastUsedAt` at most once per this many seconds per token (default 60). */
  lastUsedIntervalSeconds?: number;
  /** In-process verify cache (default off). */
  cache?: VerifyCacheOptions | false;
  /**
   * Errors of background work: a failed subscription to the store's invalidation events
   * (retried) or a failed publish of one (see `AccessTokensOptions.onError`). Default:
   * `process.emitWarning`.
   */
  onError?: (err: unknown) => void;
}

/** A stored token (epoch seconds). */
export interface TokenRecord {
  tokenId: string;
  secretPhc: string;
  owner: string;
  isAdmin: boolean;
  roles?: string[];
  createdAt: number;
  lastUsedAt?: number | null;
  revokedAt?: number | null;
  expiresAt?: number | null;
}

/** A token without its hash (unless asked for). */
export type PublicTokenRecord = Omit<TokenRecord, 'secretPhc'> & { secretPhc?: string };

/** A verified token: never carries `revokedAt`. */
export type ValidTokenRecord = Omit<PublicTokenRecord, 'revokedAt'>;

/** The seed's failure reasons. */
export type VerifyFailureReason =
  | 'invalid_prefix'
  | 'invalid_format'
  | 'not_found'
  | 'invalid_phc'
  | 'unsupported_algorithm'
  | 'invalid_parameters'
  | 'invalid_secret'
  | 'revoked'
  | 'expired';

/** A failed verification. */
export interface VerifyFailure {
  valid: false;
  reason: VerifyFailureReason;
  /** With `revoked` and `expired` (never with the hash, unlike the seed). */
  record?: PublicTokenRecord;
  cause?: unknown;
}

/** A successful verification. */
export interface VerifySuccess {
  valid: true;
  record: ValidTokenRecord;
  /** Never set (present so that `result.reason` type-checks without narrowing). */
  reason?: undefined;
  cause?: undefined;
}

/** Result of `verify` and `bootstrap`. */
export type VerifyResult = VerifySuccess | VerifyFailure;

/** Options of `list`. */
export interface ListOptions {
  /** Most tokens to yield. */
  limit?: number;
  /** Store page size (1..1000). */
  batchLimit?: number;
  /** Start after this token id (ascending id order). */
  afterTokenId?: string;
  includeSecretPhc?: boolean;
  hasRole?: string;
}

/** Options of `batchLoad`. */
export interface BatchLoadOptions {
  includeSecretPhc?: boolean;
}

/** Result of `batchLoad`. */
export interface BatchLoadResult {
  found: PublicTokenRecord[];
  notFound: string[];
}

/** Options of `generate`. */
export interface GenerateConfig {
  tokenId?: string;
}

/** Result of `generate`. */
export interface GenerateResult {
  token: string;
  tokenId: string;
  secretPhc: string;
}

/** Arguments of `register`. */
export interface RegisterConfig {
  tokenId: string;
  secretPhc: string;
  owner: string;
  isAdmin?: boolean;
  roles?: string[];
  /** Epoch seconds. */
  expiresAt?: number;
}

/** Arguments of `issue`. */
export interface IssueConfig {
  tokenId?: string;
  owner: string;
  isAdmin?: boolean;
  roles?: string[];
  /** Epoch seconds. */
  expiresAt?: number;
}

/** Roles change of `update`. */
export type RolesUpdate =
  | string[]
  | { add: string[]; remove?: never }
  | { add?: never; remove: string[] };

/** Result of `issue`. */
export interface IssueResult {
  token: string;
  record: ValidTokenRecord;
}

/** Arguments of `update`. */
export type TokenUpdates = Partial<
  Pick<TokenRecord, 'secretPhc' | 'owner' | 'isAdmin' | 'expiresAt'>
> & { roles?: RolesUpdate };
