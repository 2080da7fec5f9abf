/**
 * Public types of the personal-access-tokens module. Every time in this module
 * is milliseconds since the Unix epoch (the `tessera/compat/access-tokens`
 * facade converts to the seed's epoch seconds).
 * @module
 */
import type { Clock } from '../core/clock.js';
import type { ScryptPhcOptions } from '../core/hashing.js';
import type { Keyring } from '../core/keyring.js';
import type { Store } from '../stores/contract.js';

/**
 * How a token string is written.
 * - `tessera`: `<prefix><21-char base62 id><base64url secret><6-char base62 CRC-32>`,
 *   e.g. `pat_4Hq0rT2mZ8xYb1cVd3eWf` + 43 + 6 characters; the checksum rejects typos
 *   and random strings offline, and secret scanners can recognise it.
 * - `legacy`: the `@access-tokens/core` format `<prefix><21-char base62 id>.<padded
 *   standard base64 secret>`, accepted strictly (canonical encoding only).
 */
export type TokenFormat = 'tessera' | 'legacy';

/** Hash written for new secrets. */
export type SecretHash = 'sha256' | 'hmac-sha256' | 'scrypt';

/** Why a verification failed (the `@access-tokens/core` reasons, same strings). */
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

/** A token as callers see it: never the secret, and its hash only when asked for. */
export interface AccessToken {
  /** 21 base62 characters; not secret (it is the first part of the token string). */
  readonly tokenId: string;
  /** Who the token belongs to, 1..100 characters. */
  readonly owner: string;
  readonly isAdmin: boolean;
  /** Roles, at most 50, each 1..100 characters, in insertion order without duplicates. */
  readonly roles: readonly string[];
  /** Creation time, ms since epoch. */
  readonly createdAt: number;
  /**
   * Last successful verification, ms since epoch, or `null` when never used.
   * Written at most once per `lastUsedIntervalSeconds`, so it may lag by that much.
   */
  readonly lastUsedAt: number | null;
  /** Revocation time, ms since epoch, or `null`. */
  readonly revokedAt: number | null;
  /** Expiry, ms since epoch, or `null` for none. */
  readonly expiresAt: number | null;
  /** Until when the secret replaced by `rotate` is still accepted (ms), or `null`. */
  readonly previousSecretExpiresAt: number | null;
  /** The stored PHC string, only with `includeSecretPhc: true`. */
  readonly secretPhc?: string;
}

/** Result of `verify` and `bootstrap`. Never throws for bad token strings. */
export type VerifyResult =
  | {
      readonly valid: true;
      readonly record: AccessToken;
      readonly reason?: undefined;
      readonly cause?: undefined;
    }
  | {
      readonly valid: false;
      readonly reason: VerifyFailureReason;
      /** The token, for `revoked` and `expired` (without its hash). */
      readonly record?: AccessToken;
      /** The underlying error, for `invalid_phc` and some `invalid_parameters`. */
      readonly cause?: unknown;
    };

/** Input of `issue`. */
export interface IssueInput {
  readonly owner: string;
  /** Default false. */
  readonly isAdmin?: boolean;
  readonly roles?: readonly string[];
  /** Expiry, ms since epoch; omit or `null` for none. */
  readonly expiresAt?: number | null;
  /** A pre-generated id (21 base62 characters); random when omitted. */
  readonly tokenId?: string;
}

/** Input of `register`: a token generated elsewhere (see `generate`), stored by its hash. */
export interface RegisterInput extends IssueInput {
  readonly tokenId: string;
  /** PHC string of the secret: `$sha256$`, `$hmac-sha256$` or `$scrypt$` (validated). */
  readonly secretPhc: string;
  /**
   * Format of the token string this hash belongs to: only that spelling of the
   * secret verifies. Default: `legacy` for a `$scrypt$` hash when the instance
   * does not write scrypt hashes itself (`hash` other than `'scrypt'`): such
   * hashes come from `@access-tokens/core`; otherwise the configured `format`.
   */
  readonly format?: TokenFormat;
  /** Creation time to keep when migrating a token, ms since epoch (default: now). */
  readonly createdAt?: number;
}

/** Roles change of `update`: a replacement array, or an atomic set-union / removal. */
export type RolesUpdate =
  | readonly string[]
  | { readonly add: readonly string[]; readonly remove?: never }
  | { readonly remove: readonly string[]; readonly add?: never };

/** Input of `update`. Fields left undefined do not change. */
export interface UpdateInput {
  readonly owner?: string;
  readonly isAdmin?: boolean;
  readonly roles?: RolesUpdate;
  /** A new PHC string (validated); ends any rotation overlap. */
  readonly secretPhc?: string;
  /** New expiry, ms since epoch, or `null` to remove it. */
  readonly expiresAt?: number | null;
}

/** Options of `list` and `listByOwner`. */
export interface ListInput {
  /** Page size, 1..1000 (default 100). */
  readonly limit?: number;
  /** The `cursor` of the previous page. */
  readonly cursor?: string | null;
  /** Start after this token id (ascending id order); ignored when `cursor` is given. */
  readonly afterTokenId?: string;
  /** Only tokens holding this role (filtered by the store). */
  readonly hasRole?: string;
  /** Include `secretPhc` in each token (default false). */
  readonly includeSecretPhc?: boolean;
}

/** A page of tokens, in ascending token id order. */
export interface TokenPage {
  readonly tokens: readonly AccessToken[];
  /** Pass to the next call; `null` when there are no more tokens. */
  readonly cursor: string | null;
}

/** Result of `batchLoad`. */
export interface BatchLoadResult {
  readonly found: AccessToken[];
  /** Ids with no (well-formed) token, in the order asked. */
  readonly notFound: string[];
}

/** The in-process verify cache. */
export interface VerifyCacheOptions {
  /**
   * Longest time a cached token is used without reading the store, in ms,
   * 1..300000 (default 5000). A revoke, update, rotate or delete made through
   * any instance on the same store instance takes effect at once; one made in
   * another process takes effect when its store event arrives (within 1 s on
   * Redis and PostgreSQL), and at the latest after `ttlMs`.
   *
   * The cache answers only while this instance's subscription to the store's
   * events delivers: until it is set up, while a failed one is retried (with
   * backoff, each failure reported to `onError`), and while the store reports
   * its event connection lost (a dropped Redis subscriber or PostgreSQL
   * listening connection, through `subscribe`'s `onStatus`), every verify
   * reads the store, so a change published during the gap is never missed.
   * The cache is emptied when delivery stops and again when it resumes; no
   * wiring is needed. Events of the SQLite and DynamoDB stores stay in their
   * process: there, only this process's changes invalidate at once.
   */
  readonly ttlMs?: number;
  /** Most cached tokens, 1..1000000 (default 10000); the oldest entries go first. */
  readonly maxEntries?: number;
}

/** Options of `createAccessTokens`. */
export interface AccessTokensOptions {
  /** Where tokens live. */
  readonly store: Store;
  /**
   * Server keys. With a keyring, new secrets are hashed as HMAC-SHA-256 by
   * default, and `$hmac-sha256$` hashes verify; without one, as SHA-256.
   */
  readonly keyring?: Keyring;
  /** Time source (default: the system clock). */
  readonly clock?: Clock;
  /** Store collection (default `pat`). */
  readonly collection?: string;
  /** Token prefix, 1..32 characters of `A-Za-z0-9_-` (default `pat_`). */
  readonly prefix?: string;
  /**
   * Format of new token strings (default `tessera`). Tokens of both formats
   * verify, each in the format it was issued or registered in (see
   * `RegisterInput.format`): one secret never verifies under two spellings.
   */
  readonly format?: TokenFormat;
  /** Random secret size in bytes, 16..64 (default 32: 256 bits). */
  readonly secretBytes?: number;
  /**
   * Hash of new secrets (default `hmac-sha256` with a keyring, else `sha256`).
   * `scrypt` writes `$scrypt$` PHC strings exactly as `@access-tokens/core` does
   * (slow on purpose; only for strict compatibility).
   */
  readonly hash?: SecretHash;
  /**
   * scrypt parameters when `hash` is `scrypt` (default ln 14, r 8, p 1, 16-byte salt, 32-byte
   * hash), within the bounds stored hashes verify under (`SCRYPT_LIMITS` of the core).
   */
  readonly scrypt?: ScryptPhcOptions;
  /** Write `lastUsedAt` at most once per this many seconds per token, 0..86400 (default 60). */
  readonly lastUsedIntervalSeconds?: number;
  /**
   * How long an expired or revoked-with-expiry token is kept before the store
   * may collect it, in seconds, 0..31622400 (default 2592000: 30 days), so that
   * verify reports `expired` rather than `not_found` in the meantime.
   */
  readonly retainExpiredSeconds?: number;
  /** In-process verify cache (default off). */
  readonly cache?: VerifyCacheOptions | false;
  /**
   * PHC string of the bootstrap secret: `bootstrap()` creates the first admin
   * token from a token whose secret matches it, once.
   */
  readonly bootstrapPhc?: string;
  /**
   * Receives the errors of background work that no caller can get: a failed
   * subscription to the store's invalidation events (with a cache; retried
   * with backoff, the cache unused meanwhile), and a failed publish of one
   * after a change (the change is stored; other processes' caches drop the
   * token after `ttlMs` at the latest). Default: `process.emitWarning`.
   */
  readonly onError?: (err: unknown) => void;
}
