/**
 * A drop-in for `@access-tokens/core`'s `DynamoDBPat` class, on any Tessera
 * store: same constructor options, method names, return shapes (epoch
 * seconds), reason strings and error messages (plain `Error`s:
 * "Token ID already exists: <id>", "Token not found: <id>", "Invalid secret
 * PHC string: <reason>", "Invalid bootstrap PHC string: <reason>"), and
 * scrypt PHC hashes by default.
 *
 * Two modes:
 * - with `store`: tokens live in that Tessera store (`tableName` and the
 *   clients are ignored);
 * - without `store` (the seed's own options, `{ tableName, ddbClient?,
 *   docClient? }`): tokens live in the existing @access-tokens/core table, in
 *   that package's item format (partition key `tokenId`, roles as a String
 *   Set, times in epoch seconds, `expiresAt` as the TTL attribute), through
 *   the DynamoDB store's `createAccessTokensSeedLayout`. The seed and this
 *   class can then share the table: each verifies, lists and changes the
 *   other's tokens. Tessera keeps what the seed format cannot hold (the
 *   expiry to restore, a rotated secret, sub-second times...) in one extra
 *   attribute, `tessera`, which the seed's schema ignores; the `bootstrap`
 *   sentinel is an item `_bootstrap` the seed skips as invalid. The table is
 *   never created or changed (there is no `migrate()`, as with the seed: it
 *   must exist); the DynamoDB store module and `@aws-sdk/client-dynamodb` are
 *   loaded on first use. Keep the default `hash: 'scrypt'` while the seed
 *   still reads the table: it cannot verify `$sha256$` or `$hmac-sha256$`
 *   hashes (`unsupported_algorithm`). `getCount()` and `list()` scan the
 *   table (as the seed's `list` did); `listByOwner()` scans too, unless
 *   `ownerIndexName` names a GSI on `owner` (the seed README's `owner-index`).
 *
 * What changes, on purpose (mostly the seed's bugs; check these when migrating):
 * - tokens parse strictly: only the canonical `pat_<id>.<base64>` spelling
 *   verifies (the seed also accepted dropped padding, appended junk and the
 *   url-safe alphabet); the checksummed Tessera format verifies too;
 * - `revoke` without `expiresAt` keeps the expiry, and `restore` brings back
 *   the expiry the token had before it was revoked (the seed made a revoked
 *   and restored token immortal);
 * - `update` checks that the token exists even when there is nothing to
 *   change: `update(id, {})` on a missing token throws "Token not found: <id>"
 *   (the seed returned early without a check);
 * - `update` refuses `roles` with both `add` and `remove` ("Cannot store
 *   invalid token record: roles takes add or remove, not both"; the seed's
 *   type forbade it, its code applied `add`), or with neither;
 * - role updates are validated (at most 50 roles of 1..100 characters, also
 *   after `{ add }`, where the seed stored a record it then could not read),
 *   `register` validates its PHC (the seed stored `"$fake"`), and scrypt
 *   parameters read from stored PHC strings are bounded (`SCRYPT_LIMITS` of
 *   the core: 128·N·r at most 32 MiB, N·r·p at most 2^20; beyond them verify
 *   answers `invalid_parameters`);
 * - the constructor checks its options: `keyLength` 16..64, `saltLength`
 *   8..64 and `scryptOptions` within the same scrypt bounds (RangeError;
 *   `cost` at most 2^17), and it ignores `scryptOptions.maxmem` (scrypt's
 *   memory is sized from the parameters);
 * - `bootstrap` is gated by an atomic sentinel record, never a table count: it
 *   works once, and of concurrent calls exactly one succeeds;
 * - `lastUsedAt` is written at most once per `lastUsedIntervalSeconds` (60),
 *   as a conditional update that can never recreate a deleted token; so the
 *   record a successful `verify` returns carries the last written
 *   `lastUsedAt`, up to that interval old (the seed wrote and returned "now"
 *   on every verify);
 * - a failed verification never carries the stored hash;
 * - `list` runs in ascending token id order through the store (`hasRole` is
 *   filtered by the store), with an exact `limit`; `afterTokenId` means "after
 *   this id in that order" (the seed used DynamoDB's hash order);
 * - `getCount()` is exact and reads every token (the seed returned
 *   DynamoDB's `ItemCount`, refreshed about every 6 hours);
 * - store failures reach the caller as Tessera's typed errors
 *   (`StoreUnavailableError`, `StoreError`; from `list` and `listByOwner`, a
 *   plain `Error` with the same message and the typed error as `cause`)
 *   rather than AWS SDK errors, and `batchLoad` does no retries of its own
 *   (the seed's "Max retries reached with N unprocessed items"); `update`,
 *   `revoke`, `restore` and `rotate` are compare-and-set, and throw
 *   `ConflictError` after 16 lost races in a row;
 * - an `expiresAt` of 0 is stored as "no expiry", so records show none (the
 *   seed stored the 0, which it also read as no expiry).
 *
 * Additions: `listByOwner` (the seed README promised it), `rotate`,
 * `clearCache`, `close`, and the options `store`, `keyring`, `clock`,
 * `collection`, `hash`, `lastUsedIntervalSeconds`, `cache`, `onError` and
 * `ownerIndexName`.
 * @module
 */
import { type AccessTokens, createAccessTokens } from '../../access-tokens/access-tokens.js';
import type { AccessToken, VerifyResult as NativeVerifyResult } from '../../access-tokens/types.js';
import { isTesseraError } from '../../core/errors.js';
import type { Store } from '../../stores/contract.js';
import { createTableStore, type TableStore } from './table-store.js';
import type {
  BatchLoadOptions,
  BatchLoadResult,
  DynamoDBPatConfig,
  GenerateConfig,
  GenerateResult,
  IssueConfig,
  IssueResult,
  ListOptions,
  PublicTokenRecord,
  RegisterConfig,
  TokenRecord,
  TokenUpdates,
  ValidTokenRecord,
  VerifyResult,
} from './types.js';

const toSeconds = (ms: number) => Math.floor(ms / 1000);
/** The seed treats 0 (and null) as "no expiry". */
const toMs = (seconds: number | null | undefined): number | null | undefined =>
  seconds === undefined ? undefined : seconds === null || seconds === 0 ? null : seconds * 1000;

function publicRecord(t: AccessToken): PublicTokenRecord {
  return {
    tokenId: t.tokenId,
    owner: t.owner,
    isAdmin: t.isAdmin,
    ...(t.roles.length > 0 ? { roles: [...t.roles] } : {}),
    createdAt: toSeconds(t.createdAt),
    ...(t.lastUsedAt === null ? {} : { lastUsedAt: toSeconds(t.lastUsedAt) }),
    ...(t.revokedAt === null ? {} : { revokedAt: toSeconds(t.revokedAt) }),
    ...(t.expiresAt === null ? {} : { expiresAt: toSeconds(t.expiresAt) }),
    ...(t.secretPhc === undefined ? {} : { secretPhc: t.secretPhc }),
  };
}

/** The record `issue` returns (the seed's shape: no lastUsedAt, no revokedAt). */
function issuedRecord(t: AccessToken): ValidTokenRecord {
  return {
    tokenId: t.tokenId,
    owner: t.owner,
    isAdmin: t.isAdmin,
    ...(t.roles.length > 0 ? { roles: [...t.roles] } : {}),
    createdAt: toSeconds(t.createdAt),
    ...(t.expiresAt === null ? {} : { expiresAt: toSeconds(t.expiresAt) }),
  };
}

/** The record a successful `verify` returns (the seed's shape). */
function verifiedRecord(t: AccessToken): ValidTokenRecord {
  return {
    tokenId: t.tokenId,
    owner: t.owner,
    isAdmin: t.isAdmin,
    ...(t.roles.length > 0 ? { roles: [...t.roles] } : {}),
    createdAt: toSeconds(t.createdAt),
    ...(t.lastUsedAt === null ? {} : { lastUsedAt: toSeconds(t.lastUsedAt) }),
    ...(t.expiresAt === null ? {} : { expiresAt: toSeconds(t.expiresAt) }),
  };
}

function toSeedResult(r: NativeVerifyResult): VerifyResult {
  if (r.valid) return { valid: true, record: verifiedRecord(r.record) };
  return {
    valid: false,
    reason: r.reason,
    ...(r.record === undefined ? {} : { record: publicRecord(r.record) }),
    ...(r.cause === undefined ? {} : { cause: r.cause }),
  };
}

/** Map a Tessera error to the seed's plain `Error` with its message. */
function seedError(err: unknown, tokenId: unknown, storing: boolean): unknown {
  if (!isTesseraError(err)) return err;
  const cause = { cause: err };
  switch (err.code) {
    case 'ERR_TESSERA_NOT_FOUND':
    case 'ERR_TESSERA_ALREADY_EXISTS':
      // The native messages are the seed's: "Token not found: <id>", "Token ID already exists: <id>".
      return new Error(err.message, cause);
    case 'ERR_TESSERA_MALFORMED_RECORD':
      return new Error(
        `Cannot load invalid record for token ${String(tokenId)}: ${err.message}`,
        cause,
      );
    case 'ERR_TESSERA_INVALID_INPUT': {
      if (err.message.startsWith('Invalid secret PHC string: '))
        return new Error(err.message, cause);
      if (!storing && (err as { field?: string }).field === 'tokenId') {
        return new Error(`Token not found: ${String(tokenId)}`, cause);
      }
      return new Error(`Cannot store invalid token record: ${err.message}`, cause);
    }
    default:
      return err;
  }
}

function checkSeconds(value: unknown, name: string): void {
  if (
    value !== undefined &&
    value !== null &&
    (!Number.isSafeInteger(value) || (value as number) < 0)
  ) {
    throw new Error(
      `Cannot store invalid token record: ${name} must be an integer (epoch seconds)`,
    );
  }
}

function intIn(value: number, name: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in ${min}..${max}`);
  }
  return value;
}

/**
 * The seed's `DynamoDBPat` over a Tessera store.
 *
 * @example
 * ```ts
 * import { DynamoDBPat } from 'tessera/compat/access-tokens';
 * const pat = new DynamoDBPat({ tableName: 'my-tokens', store });
 * const { token, record } = await pat.issue({ owner: 'user@example.com', isAdmin: false });
 * const result = await pat.verify(token); // { valid: true, record: { tokenId, owner, ... } }
 * ```
 */
export class DynamoDBPat {
  readonly #pats: AccessTokens;
  readonly #prefix: string;
  /** The store over the seed's table, in table mode (owned: closed by `close()`). */
  readonly #table: TableStore | undefined;
  /** (listing, role, last token id) of a list call that stopped at its limit → the cursor after it. */
  readonly #resume = new Map<string, string>();

  /**
   * @param config - the seed's options (`tableName`, `ddbClient`, `docClient`, ...: the table
   *   mode), or `store` to use any Tessera store; plus `keyring`, `clock`, `collection`, `hash`,
   *   `lastUsedIntervalSeconds`, `cache`, `onError` and `ownerIndexName`
   * @throws TypeError without `store`, for a missing or malformed `tableName`, a client without
   *   `send`, or a malformed `ownerIndexName`; for a malformed prefix; for `hash: 'hmac-sha256'`
   *   without a `keyring`
   * @throws RangeError for out-of-range lengths or scrypt options (the bounds of the core's
   *   `SCRYPT_LIMITS`: 128·N·r at most 32 MiB, N·r·p at most 2^20; they admit the seed's
   *   defaults, every cost and block size its default `maxmem` allows, and parallelization up
   *   to 8 at the default cost and block size)
   * @throws Error "Invalid bootstrap PHC string: <reason>" for an unusable bootstrap PHC
   */
  constructor(config: DynamoDBPatConfig) {
    if (typeof config !== 'object' || config === null)
      throw new TypeError('config must be an object');
    const collection = config.collection ?? 'pat';
    this.#table =
      config.store === undefined
        ? createTableStore({
            tableName: config.tableName,
            ddbClient: config.ddbClient,
            docClient: config.docClient,
            ownerIndexName: config.ownerIndexName,
            collection,
          })
        : undefined;
    const store: Store = config.store ?? (this.#table as TableStore).store;
    this.#prefix = config.tokenPrefix ?? 'pat_';
    const keyLength = intIn(config.keyLength ?? 32, 'keyLength', 16, 64);
    const saltLength = intIn(config.saltLength ?? 16, 'saltLength', 8, 64);
    const cost = config.scryptOptions?.cost ?? 16384;
    const ln = Math.log2(cost);
    if (!Number.isSafeInteger(ln) || ln < 1 || ln > 17) {
      throw new RangeError('scryptOptions.cost must be a power of two in 2..2^17');
    }
    try {
      this.#pats = createAccessTokens({
        store,
        // Only HMAC hashes need one; the default (scrypt, as the seed) does not.
        keyring: config.keyring,
        clock: config.clock,
        collection,
        prefix: this.#prefix,
        format: 'legacy',
        secretBytes: keyLength,
        hash: config.hash ?? 'scrypt',
        scrypt: {
          ln,
          r: config.scryptOptions?.blockSize ?? 8,
          p: config.scryptOptions?.parallelization ?? 1,
          saltBytes: saltLength,
          keyBytes: keyLength,
        },
        lastUsedIntervalSeconds: config.lastUsedIntervalSeconds,
        cache: config.cache,
        onError: config.onError,
        bootstrapPhc: config.bootstrapPhc,
      });
    } catch (err) {
      if (err instanceof TypeError && err.message.startsWith('Invalid bootstrap PHC string: ')) {
        throw new Error(err.message);
      }
      throw err;
    }
  }

  /**
   * The number of tokens. Exact (the seed returned DynamoDB's `ItemCount`,
   * refreshed about every 6 hours), and it reads every token: O(n).
   */
  async getCount(): Promise<number> {
    let count = 0;
    let cursor: string | null = null;
    do {
      const page = await this.#pats.list({ limit: 1000, cursor });
      count += page.tokens.length;
      cursor = page.cursor;
    } while (cursor !== null);
    return count;
  }

  /**
   * Yield tokens in ascending id order, without hashes unless asked.
   * Revoked and expired tokens are included (filter them yourself, as with the seed).
   */
  async *list(options: ListOptions = {}): AsyncGenerator<PublicTokenRecord> {
    yield* this.#iterate(options, 'all', (input) => this.#pats.list(input));
  }

  /** Like `list`, for one owner (the seed's README promised it; its code lacked it). */
  async *listByOwner(owner: string, options: ListOptions = {}): AsyncGenerator<PublicTokenRecord> {
    yield* this.#iterate(options, `owner:${owner}`, (input) =>
      this.#pats.listByOwner(owner, input),
    );
  }

  async *#iterate(
    options: ListOptions,
    listing: string,
    read: AccessTokens['list'],
  ): AsyncGenerator<PublicTokenRecord> {
    const { limit, batchLimit, hasRole } = options;
    const includeSecretPhc = options.includeSecretPhc === true;
    if (limit !== undefined && limit <= 0) return;
    let yielded = 0;
    let cursor: string | null = null;
    let afterTokenId = options.afterTokenId;
    // A cursor continues only the listing (and role filter) it came from.
    const scope = `${listing}\u0000${hasRole ?? ''}\u0000`;
    const resumed = afterTokenId === undefined ? undefined : this.#resume.get(scope + afterTokenId);
    if (resumed !== undefined) {
      cursor = resumed;
      afterTokenId = undefined;
    }
    for (;;) {
      const want = limit === undefined ? 1000 : limit - yielded;
      const size = Math.max(1, Math.min(1000, batchLimit ?? 1000, want));
      let page: Awaited<ReturnType<AccessTokens['list']>>;
      try {
        page = await read({
          limit: size,
          cursor,
          ...(cursor === null && afterTokenId !== undefined ? { afterTokenId } : {}),
          ...(hasRole === undefined ? {} : { hasRole }),
          includeSecretPhc,
        });
      } catch (err) {
        throw isTesseraError(err) ? new Error(err.message, { cause: err }) : err;
      }
      for (const t of page.tokens) {
        yield publicRecord(t);
        yielded++;
        if (limit !== undefined && yielded >= limit) {
          if (page.cursor !== null && t === page.tokens.at(-1)) {
            this.#remember(scope + t.tokenId, page.cursor);
          }
          return;
        }
      }
      if (page.cursor === null) return;
      cursor = page.cursor;
    }
  }

  #remember(key: string, cursor: string): void {
    this.#resume.delete(key);
    this.#resume.set(key, cursor);
    if (this.#resume.size > 256) this.#resume.delete(this.#resume.keys().next().value as string);
  }

  /** Load many tokens; ids with no (well-formed) token are listed in `notFound`. */
  async batchLoad(tokenIds: Set<string>, options: BatchLoadOptions = {}): Promise<BatchLoadResult> {
    const r = await this.#pats.batchLoad(tokenIds, {
      includeSecretPhc: options.includeSecretPhc === true,
    });
    return { found: r.found.map(publicRecord), notFound: r.notFound };
  }

  /** A new token and the PHC of its secret, stored nowhere. */
  async generate(config: GenerateConfig = {}): Promise<GenerateResult> {
    try {
      return await this.#pats.generate(config);
    } catch (err) {
      throw seedError(err, config?.tokenId, true);
    }
  }

  /**
   * Store a token from its id and PHC string; returns the record with its hash.
   * @throws Error "Token ID already exists: <id>", "Invalid secret PHC string: <reason>",
   *   "Cannot store invalid token record: <why>"
   */
  async register(config: RegisterConfig): Promise<TokenRecord> {
    try {
      checkSeconds(config?.expiresAt, 'expiresAt');
      const t = await this.#pats.register({
        tokenId: config.tokenId,
        secretPhc: config.secretPhc,
        owner: config.owner,
        isAdmin: config.isAdmin,
        roles: config.roles,
        expiresAt: toMs(config.expiresAt),
        format: 'legacy',
      });
      const { tokenId, ...rest } = issuedRecord(t);
      return { tokenId, secretPhc: config.secretPhc, ...rest };
    } catch (err) {
      throw seedError(err, config?.tokenId, true);
    }
  }

  /**
   * Issue a token with a random (or given) id and a random secret.
   * @throws Error "Token ID already exists: <id>", "Cannot store invalid token record: <why>"
   */
  async issue(config: IssueConfig): Promise<IssueResult> {
    try {
      checkSeconds(config?.expiresAt, 'expiresAt');
      const { token, record } = await this.#pats.issue({
        tokenId: config.tokenId,
        owner: config.owner,
        isAdmin: config.isAdmin,
        roles: config.roles,
        expiresAt: toMs(config.expiresAt),
      });
      return { token, record: issuedRecord(record) };
    } catch (err) {
      throw seedError(err, config?.tokenId, true);
    }
  }

  /**
   * Verify a token. Failures come back as `{ valid: false, reason }`.
   * @throws Error "Cannot load invalid record for token <id>: <why>" for a corrupt record
   */
  async verify(token: string): Promise<VerifyResult> {
    try {
      return toSeedResult(await this.#pats.verify(token));
    } catch (err) {
      const p = this.#prefix.length;
      throw seedError(err, String(token).slice(p, p + 21), false);
    }
  }

  /**
   * Revoke a token; `expiresAt` (epoch seconds) sets when the revoked record may be cleaned up.
   * Without it the token keeps its expiry. Revoking twice does nothing.
   * @throws Error "Token not found: <id>"
   */
  async revoke(tokenId: string, options?: { expiresAt?: number }): Promise<void> {
    try {
      checkSeconds(options?.expiresAt, 'expiresAt');
      await this.#pats.revoke(tokenId, { expiresAt: toMs(options?.expiresAt) });
    } catch (err) {
      throw seedError(err, tokenId, false);
    }
  }

  /**
   * Restore a revoked token with the expiry it had before. Does nothing for an active token.
   * @throws Error "Token not found: <id>"
   */
  async restore(tokenId: string): Promise<void> {
    try {
      await this.#pats.restore(tokenId);
    } catch (err) {
      throw seedError(err, tokenId, false);
    }
  }

  /**
   * Update a token atomically. Roles: an array replaces, `{ add }` and `{ remove }` change.
   * @throws Error "Token not found: <id>" (also for an empty update), "Invalid secret PHC string:
   *   <reason>", "Cannot store invalid token record: <why>" (e.g. more than 50 roles)
   */
  async update(tokenId: string, updates: TokenUpdates): Promise<void> {
    try {
      checkSeconds(updates?.expiresAt, 'expiresAt');
      await this.#pats.update(tokenId, {
        owner: updates.owner,
        isAdmin: updates.isAdmin,
        secretPhc: updates.secretPhc,
        roles: updates.roles,
        expiresAt: toMs(updates.expiresAt),
      });
    } catch (err) {
      throw seedError(err, tokenId, false);
    }
  }

  /**
   * Create the first admin token from a token matching the bootstrap PHC: once,
   * and only while no token exists; `not_found` otherwise.
   */
  async bootstrap(token: string, config: { owner: string }): Promise<VerifyResult> {
    try {
      const r = await this.#pats.bootstrap(token, config);
      if (!r.valid) return toSeedResult(r);
      const { tokenId, owner, isAdmin, createdAt } = r.record;
      return { valid: true, record: { tokenId, owner, isAdmin, createdAt: toSeconds(createdAt) } };
    } catch (err) {
      throw seedError(err, undefined, true);
    }
  }

  /** Tessera addition: a new secret; the old one verifies for `overlapSeconds` more. */
  async rotate(tokenId: string, options: { overlapSeconds?: number } = {}): Promise<IssueResult> {
    try {
      const { token, record } = await this.#pats.rotate(tokenId, options);
      return { token, record: issuedRecord(record) };
    } catch (err) {
      throw seedError(err, tokenId, false);
    }
  }

  /**
   * Tessera addition: forget every cached token (see `cache`). Gaps in the store's event
   * delivery need no call (the cache follows the subscription's status by itself); call it when
   * changes may have been missed some other way. A no-op without a cache.
   */
  clearCache(): void {
    this.#pats.clearCache();
  }

  /**
   * Tessera addition: stop listening to the store's cache-invalidation events. In table mode,
   * also close the store over the table (and destroy the client only if it created one).
   */
  async close(): Promise<void> {
    await this.#pats.close();
    await this.#table?.close();
  }
}
