/**
 * Personal access tokens (API keys) on any Tessera store: the semantics of
 * `@access-tokens/core` with its bugs fixed, fast verification and rotation.
 * Times are ms since epoch throughout.
 * @module
 */

import { randomInt } from 'node:crypto';
import {
  AlreadyExistsError,
  ConflictError,
  InvalidInputError,
  NotFoundError,
  RevokedError,
} from '../core/errors.js';
import { randomBytes } from '../core/random.js';
import type { FieldCondition, Page, StoredRecord } from '../stores/contract.js';
import { createBootstrap } from './bootstrap.js';
import { generateTokenId, isTokenId } from './format.js';
import { type Context, resolveOptions } from './options.js';
import { collectPage, decodeListCursor, type ListPosition } from './paging.js';
import { phcProblem } from './phc.js';
import {
  readTokenData,
  storeExpiry,
  type TokenData,
  toAccessToken,
  toStoredData,
} from './record.js';
import type {
  AccessToken,
  AccessTokensOptions,
  BatchLoadResult,
  IssueInput,
  ListInput,
  RegisterInput,
  TokenFormat,
  TokenPage,
  UpdateInput,
  VerifyResult,
} from './types.js';
import {
  checkInt,
  checkObject,
  checkOptionalBoolean,
  checkOptionalExpiry,
  checkOwner,
  checkRole,
  checkRoleCount,
  checkTime,
  checkTokenId,
  normalizeRoles,
} from './validate.js';
import { createVerify } from './verify.js';

/** Longest rotation overlap, in seconds (30 days). */
export const MAX_OVERLAP_SECONDS = 2_592_000;
const MAX_CAS_ATTEMPTS = 16;

/** The personal-access-tokens API (see {@link createAccessTokens}). */
export interface AccessTokens {
  /**
   * A new token string and the PHC string of its secret, without storing
   * anything (pair with `register`).
   * @param input - `tokenId`: a pre-generated id (21 base62 characters); random when omitted
   * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) for a malformed tokenId
   */
  generate(input?: {
    tokenId?: string;
  }): Promise<{ token: string; tokenId: string; secretPhc: string }>;
  /**
   * Create and store a token; the returned `token` string is the only time the secret exists
   * in plaintext.
   * @throws AlreadyExistsError (`ERR_TESSERA_ALREADY_EXISTS`, "Token ID already exists: <id>")
   * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) for bad input
   */
  issue(input: IssueInput): Promise<{ token: string; record: AccessToken }>;
  /**
   * Store a token from its id and PHC string (from `generate`, or migrated).
   * The token verifies in one format only (`input.format`): by default the
   * configured `format`, but `legacy` for a `$scrypt$` hash unless this
   * instance writes scrypt hashes itself (`hash: 'scrypt'`), as such hashes
   * come from `@access-tokens/core`, whose tokens are `pat_<id>.<base64>`.
   * @throws AlreadyExistsError (`ERR_TESSERA_ALREADY_EXISTS`) when the id is taken
   * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`, "Invalid secret PHC string: <reason>")
   */
  register(input: RegisterInput): Promise<AccessToken>;
  /**
   * Verify a presented token string. Never throws for a bad string; the result
   * says why it failed.
   * @throws MalformedRecordError (`ERR_TESSERA_MALFORMED_RECORD`) when the stored record is corrupt
   * @throws StoreUnavailableError / StoreError when the store fails (fail closed)
   */
  verify(token: string): Promise<VerifyResult>;
  /** Read one token, or `null` (also for a malformed id). */
  get(tokenId: string, options?: { includeSecretPhc?: boolean }): Promise<AccessToken | null>;
  /**
   * Change a token in one atomic step (compare-and-set, retried on conflict).
   * Roles: a replacement array, `{ add }` (set-union) or `{ remove }`; the
   * result must hold at most 50 roles.
   * @throws NotFoundError (`ERR_TESSERA_NOT_FOUND`, "Token not found: <id>")
   * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) for bad input, too many roles or an
   *   unusable PHC ("Invalid secret PHC string: <reason>")
   * @throws ConflictError (`ERR_TESSERA_CONFLICT`) after 16 lost races in a row
   */
  update(tokenId: string, input: UpdateInput): Promise<AccessToken>;
  /**
   * Revoke a token (no-op when already revoked). Its expiry is kept, unless
   * `expiresAt` gives a new one for the revoked record (cleanup); `restore`
   * brings back the expiry it had before.
   * @throws NotFoundError (`ERR_TESSERA_NOT_FOUND`)
   */
  revoke(tokenId: string, options?: { expiresAt?: number | null }): Promise<AccessToken>;
  /**
   * Undo a revocation, with the expiry the token had before (no-op when not revoked).
   * @throws NotFoundError (`ERR_TESSERA_NOT_FOUND`)
   */
  restore(tokenId: string): Promise<AccessToken>;
  /**
   * Give a token a new secret; the old one keeps verifying for `overlapSeconds`
   * (0..2592000, default 0).
   * @throws NotFoundError (`ERR_TESSERA_NOT_FOUND`)
   * @throws RevokedError (`ERR_TESSERA_REVOKED`) for a revoked token
   */
  rotate(
    tokenId: string,
    options?: { overlapSeconds?: number },
  ): Promise<{ token: string; record: AccessToken }>;
  /** Delete a token; resolves to whether one existed. */
  delete(tokenId: string): Promise<boolean>;
  /**
   * A page of tokens in ascending id order (revoked and expired included).
   * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) for a bad limit, cursor or role
   */
  list(input?: ListInput): Promise<TokenPage>;
  /** Like `list`, for one owner, through the store's `owner` index. */
  listByOwner(owner: string, input?: ListInput): Promise<TokenPage>;
  /** Load many tokens at once; malformed ids and records count as not found. */
  batchLoad(
    tokenIds: Iterable<string>,
    options?: { includeSecretPhc?: boolean },
  ): Promise<BatchLoadResult>;
  /**
   * Create the first admin token from a token whose secret matches the
   * bootstrap PHC: once, only while no token exists (`not_found` otherwise).
   * @throws AlreadyExistsError (`ERR_TESSERA_ALREADY_EXISTS`) when the token's id is taken
   */
  bootstrap(token: string, input: { owner: string }): Promise<VerifyResult>;
  /**
   * Resolves once this instance listens to other instances' invalidations
   * through `store.events`, and so answers from its verify cache (at once
   * without a cache, or once closed). A failed subscription is retried until
   * it succeeds, and a subscription the store reports interrupted is waited
   * for until it delivers again; meanwhile every verify reads the store.
   */
  ready(): Promise<void>;
  /**
   * Forget every cached token: the next verify of each reads the store. Gaps
   * in the store's event delivery need no call (the cache follows the
   * subscription's status by itself); call it when changes may have been
   * missed some other way. A no-op without a cache.
   */
  clearCache(): void;
  /**
   * Stop listening to the store's invalidation events and drop the cache (the
   * store stays open); later verifies read the store.
   */
  close(): Promise<void>;
}

/**
 * Create the personal-access-tokens API over a store.
 *
 * Defaults: 256-bit secrets, the `pat_` prefix, the checksummed `tessera`
 * format (the seed's `pat_<id>.<base64>` also verifies, strictly), SHA-256 or
 * (with a keyring) HMAC-SHA-256 hashes, `lastUsedAt` written at most once a
 * minute per token, expired tokens kept 30 days, no verify cache. Tokens live
 * in collection `pat` under their id, with index `owner`.
 *
 * @param options - see {@link AccessTokensOptions}
 * @throws TypeError / RangeError for bad options ("Invalid bootstrap PHC string: <reason>")
 * @example
 * ```ts
 * const pats = createAccessTokens({ store, keyring, cache: { ttlMs: 5000 } });
 * const { token } = await pats.issue({ owner: 'alice@example.com', roles: ['reader'] });
 * const result = await pats.verify(token); // { valid: true, record: { owner: 'alice@example.com', ... } }
 * ```
 */
export function createAccessTokens(options: AccessTokensOptions): AccessTokens {
  const ctx: Context = resolveOptions(options);
  const { store, collection, clock, codec, hasher, keyring } = ctx;
  const notFound = (tokenId: string) => new NotFoundError(`Token not found: ${tokenId}`);
  const isToken: FieldCondition = { field: 'tokenId', op: 'exists' };

  function newToken(
    f: Pick<TokenData, 'tokenId' | 'owner' | 'isAdmin' | 'secretPhc' | 'format'> &
      Partial<Pick<TokenData, 'roles' | 'expiresAt' | 'createdAt'>>,
    now: number,
  ): TokenData {
    return {
      roles: [],
      expiresAt: null,
      createdAt: now,
      ...f,
      lastUsedAt: null,
      revokedAt: null,
      expiresAtBeforeRevoke: undefined,
      previousSecretPhc: null,
      previousFormat: null,
      previousSecretExpiresAt: null,
    };
  }

  async function insert(data: TokenData, now: number): Promise<StoredRecord> {
    const r = await store.put(
      {
        ...ctx.ref(data.tokenId),
        data: toStoredData(data),
        expiresAt: storeExpiry(data, ctx.retainMs),
        index: { owner: data.owner },
      },
      { mode: 'insert', now },
    );
    if (!r.ok) throw new AlreadyExistsError(`Token ID already exists: ${data.tokenId}`);
    return r.record;
  }

  async function newSecret(tokenId: string) {
    const secret = randomBytes(codec.secretBytes);
    const secretPhc = await hasher.hash(secret);
    return { token: codec.format(tokenId, secret, ctx.format), secretPhc };
  }

  /** Read, change and write back under a version condition, retrying lost races. */
  async function mutate(
    tokenId: string,
    change: (t: TokenData, now: number) => TokenData | undefined,
  ): Promise<TokenData> {
    checkTokenId(tokenId);
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const now = clock.now();
      const record = await store.get(ctx.ref(tokenId));
      if (record === null) throw notFound(tokenId);
      const current = readTokenData(record);
      const next = change(current, now);
      if (next === undefined) return current;
      const data = toStoredData(next);
      if (JSON.stringify(data) === JSON.stringify(toStoredData(current))) return current;
      const unset = next.expiresAtBeforeRevoke === undefined ? ['expiresAtBeforeRevoke'] : [];
      const r = await store.update(
        ctx.ref(tokenId),
        {
          set: data,
          unset,
          expiresAt: storeExpiry(next, ctx.retainMs),
          index: { owner: next.owner },
        },
        { where: { version: record.version } },
      );
      if (r.ok) {
        await ctx.notify(tokenId);
        return readTokenData(r.record);
      }
      if (r.current === null) throw notFound(tokenId);
      // Lost a race: back off a little (jittered) before reading again.
      const delayMs = randomInt(0, Math.min(50, 2 ** attempt) + 1);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    throw new ConflictError(`Token ${tokenId} changed concurrently too often; retry.`);
  }

  function checkIssue(input: IssueInput): string[] {
    checkObject(input, 'input');
    checkOwner(input.owner);
    checkOptionalBoolean(input.isAdmin, 'isAdmin');
    checkOptionalExpiry(input.expiresAt);
    if (input.tokenId !== undefined) checkTokenId(input.tokenId);
    return input.roles === undefined ? [] : normalizeRoles(input.roles);
  }

  async function generate(input: { tokenId?: string } = {}) {
    checkObject(input, 'input');
    if (input.tokenId !== undefined) checkTokenId(input.tokenId);
    const tokenId = input.tokenId ?? generateTokenId();
    return { tokenId, ...(await newSecret(tokenId)) };
  }

  async function issue(input: IssueInput) {
    const roles = checkIssue(input);
    const tokenId = input.tokenId ?? generateTokenId();
    const { token, secretPhc } = await newSecret(tokenId);
    const now = clock.now();
    const data = newToken(
      {
        tokenId,
        owner: input.owner,
        isAdmin: input.isAdmin ?? false,
        roles,
        expiresAt: input.expiresAt ?? null,
        secretPhc,
        format: ctx.format,
      },
      now,
    );
    await insert(data, now);
    return { token, record: toAccessToken(data) };
  }

  /**
   * The format a registered hash verifies in when the caller names none: a
   * `$scrypt$` hash comes from `@access-tokens/core` (legacy format), unless
   * this instance writes scrypt itself (then from its own `generate`).
   */
  function defaultRegisterFormat(secretPhc: string): TokenFormat {
    return ctx.hash !== 'scrypt' && secretPhc.startsWith('$scrypt$') ? 'legacy' : ctx.format;
  }

  async function register(input: RegisterInput) {
    const roles = checkIssue(input);
    checkTokenId(input.tokenId);
    const problem = phcProblem(input.secretPhc, keyring);
    if (problem !== undefined) {
      throw new InvalidInputError(`Invalid secret PHC string: ${problem}`, 'secretPhc');
    }
    const format = input.format ?? defaultRegisterFormat(input.secretPhc);
    if (format !== 'tessera' && format !== 'legacy') {
      throw new InvalidInputError("format must be 'tessera' or 'legacy'", 'format');
    }
    if (input.createdAt !== undefined) checkTime(input.createdAt, 'createdAt');
    const now = clock.now();
    const data = newToken(
      {
        tokenId: input.tokenId,
        owner: input.owner,
        isAdmin: input.isAdmin ?? false,
        roles,
        expiresAt: input.expiresAt ?? null,
        secretPhc: input.secretPhc,
        format,
        createdAt: input.createdAt ?? now,
      },
      now,
    );
    await insert(data, now);
    return toAccessToken(data);
  }

  async function get(tokenId: string, opts: { includeSecretPhc?: boolean } = {}) {
    checkOptionalBoolean(opts.includeSecretPhc, 'includeSecretPhc');
    if (!isTokenId(tokenId)) return null;
    const record = await store.get(ctx.ref(tokenId));
    return record === null ? null : toAccessToken(readTokenData(record), opts.includeSecretPhc);
  }

  async function update(tokenId: string, input: UpdateInput) {
    checkTokenId(tokenId);
    checkObject(input, 'input');
    if (input.owner !== undefined) checkOwner(input.owner);
    checkOptionalBoolean(input.isAdmin, 'isAdmin');
    checkOptionalExpiry(input.expiresAt);
    if (input.secretPhc !== undefined) {
      const problem = phcProblem(input.secretPhc, keyring);
      if (problem !== undefined) {
        throw new InvalidInputError(`Invalid secret PHC string: ${problem}`, 'secretPhc');
      }
    }
    const roles = input.roles;
    let replace: string[] | undefined;
    let add: string[] = [];
    let remove: string[] = [];
    if (Array.isArray(roles)) {
      replace = normalizeRoles(roles);
    } else if (roles !== undefined) {
      checkObject(roles, 'roles');
      const r = roles as { add?: unknown; remove?: unknown };
      if (r.add !== undefined && r.remove !== undefined) {
        throw new InvalidInputError('roles takes add or remove, not both', 'roles');
      }
      if (r.add === undefined && r.remove === undefined) {
        throw new InvalidInputError('roles must be an array, { add } or { remove }', 'roles');
      }
      if (r.add !== undefined) add = normalizeRoles(r.add, 'roles.add');
      if (r.remove !== undefined) {
        if (!Array.isArray(r.remove))
          throw new InvalidInputError('roles.remove must be an array', 'roles.remove');
        for (const role of r.remove) checkRole(role, 'roles.remove');
        remove = r.remove as string[];
      }
    }
    return toAccessToken(
      await mutate(tokenId, (t) => {
        const next: TokenData = { ...t };
        if (input.owner !== undefined) next.owner = input.owner;
        if (input.isAdmin !== undefined) next.isAdmin = input.isAdmin;
        if (replace !== undefined) next.roles = replace;
        if (add.length > 0) {
          next.roles = [...t.roles, ...add.filter((role) => !t.roles.includes(role))];
          checkRoleCount(next.roles.length, 'roles.add');
        }
        if (remove.length > 0) next.roles = t.roles.filter((role) => !remove.includes(role));
        if (input.secretPhc !== undefined) {
          next.secretPhc = input.secretPhc;
          next.previousSecretPhc = null;
          next.previousFormat = null;
          next.previousSecretExpiresAt = null;
        }
        if (input.expiresAt !== undefined) {
          next.expiresAt = input.expiresAt;
          if (t.revokedAt !== null) next.expiresAtBeforeRevoke = input.expiresAt;
        }
        return next;
      }),
    );
  }

  async function revoke(tokenId: string, opts: { expiresAt?: number | null } = {}) {
    checkObject(opts, 'options');
    checkOptionalExpiry(opts.expiresAt);
    const t = await mutate(tokenId, (cur, now) =>
      cur.revokedAt !== null
        ? undefined
        : {
            ...cur,
            revokedAt: now,
            expiresAtBeforeRevoke: cur.expiresAt,
            expiresAt: opts.expiresAt === undefined ? cur.expiresAt : opts.expiresAt,
          },
    );
    ctx.cache?.invalidate(tokenId);
    return toAccessToken(t);
  }

  async function restore(tokenId: string) {
    const t = await mutate(tokenId, (cur) =>
      cur.revokedAt === null
        ? undefined
        : {
            ...cur,
            revokedAt: null,
            expiresAt: cur.expiresAtBeforeRevoke ?? null,
            expiresAtBeforeRevoke: undefined,
          },
    );
    return toAccessToken(t);
  }

  async function rotate(tokenId: string, opts: { overlapSeconds?: number } = {}) {
    checkTokenId(tokenId);
    checkObject(opts, 'options');
    const overlap = opts.overlapSeconds ?? 0;
    checkInt(overlap, 'overlapSeconds', 0, MAX_OVERLAP_SECONDS);
    const { token, secretPhc } = await newSecret(tokenId);
    const t = await mutate(tokenId, (cur, now) => {
      if (cur.revokedAt !== null) throw new RevokedError(`Token is revoked: ${tokenId}`);
      const keep = overlap > 0;
      return {
        ...cur,
        secretPhc,
        format: ctx.format,
        previousSecretPhc: keep ? cur.secretPhc : null,
        previousFormat: keep ? cur.format : null,
        previousSecretExpiresAt: keep ? now + overlap * 1000 : null,
      };
    });
    return { token, record: toAccessToken(t) };
  }

  async function remove(tokenId: string) {
    if (!isTokenId(tokenId)) return false;
    const r = await store.delete(ctx.ref(tokenId), { fields: [isToken] });
    ctx.cache?.invalidate(tokenId);
    if (r.ok) await ctx.notify(tokenId);
    return r.ok;
  }

  function listArgs(input: ListInput) {
    checkObject(input, 'input');
    const limit = input.limit ?? 100;
    checkInt(limit, 'limit', 1, 1000);
    checkOptionalBoolean(input.includeSecretPhc, 'includeSecretPhc');
    let start: ListPosition = { storeCursor: null, after: null };
    if (input.cursor !== undefined && input.cursor !== null) {
      start = decodeListCursor(input.cursor);
    } else if (input.afterTokenId !== undefined) {
      checkTokenId(input.afterTokenId, 'afterTokenId');
      start = { storeCursor: null, after: input.afterTokenId };
    }
    const fields: FieldCondition[] = [isToken];
    if (input.hasRole !== undefined) {
      checkRole(input.hasRole, 'hasRole');
      fields.push({ field: 'roles', op: 'contains', value: input.hasRole });
    }
    const include = input.includeSecretPhc === true;
    const accept = (record: StoredRecord): AccessToken | undefined => {
      try {
        return toAccessToken(readTokenData(record), include);
      } catch {
        return undefined; // a malformed record is skipped, as the seed does
      }
    };
    return { limit, start, fields, accept };
  }

  async function runList(
    input: ListInput,
    read: (cursor: string | null, limit: number, fields: FieldCondition[]) => Promise<Page>,
  ): Promise<TokenPage> {
    const { limit, start, fields, accept } = listArgs(input);
    const { items, cursor } = await collectPage((c, n) => read(c, n, fields), start, limit, accept);
    return Object.freeze({ tokens: Object.freeze(items), cursor });
  }

  async function list(input: ListInput = {}) {
    return runList(input, (cursor, limit, fields) =>
      store.list(collection, { limit, cursor, fields }),
    );
  }

  async function listByOwner(owner: string, input: ListInput = {}) {
    checkOwner(owner);
    return runList(input, (cursor, limit, fields) =>
      store.findByIndex(collection, 'owner', owner, { limit, cursor, fields }),
    );
  }

  async function batchLoad(tokenIds: Iterable<string>, opts: { includeSecretPhc?: boolean } = {}) {
    if (
      tokenIds === null ||
      typeof (tokenIds as Iterable<string>)?.[Symbol.iterator] !== 'function'
    ) {
      throw new InvalidInputError('tokenIds must be an iterable of strings', 'tokenIds');
    }
    checkOptionalBoolean(opts.includeSecretPhc, 'includeSecretPhc');
    const ids = [...new Set(tokenIds)];
    const found: AccessToken[] = [];
    const notFound: string[] = [];
    const valid = ids.filter((id) => isTokenId(id));
    const records = new Map<string, StoredRecord | null>();
    for (let i = 0; i < valid.length; i += 100) {
      const chunk = valid.slice(i, i + 100);
      const got = await store.getMany(chunk.map((id) => ctx.ref(id)));
      for (const [j, id] of chunk.entries()) records.set(id, got[j] ?? null);
    }
    for (const id of ids) {
      const record = records.get(id);
      try {
        if (record) {
          found.push(toAccessToken(readTokenData(record), opts.includeSecretPhc === true));
          continue;
        }
      } catch {
        // malformed: not found
      }
      notFound.push(String(id));
    }
    return { found, notFound };
  }

  async function anyToken(): Promise<boolean> {
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const page: Page = await store.list(collection, { limit: 1, cursor, fields: [isToken] });
      if (page.records.length > 0) return true;
      if (page.cursor === null) return false;
      cursor = page.cursor;
    }
    return true; // be safe: treat an unusually sparse scan as "not empty"
  }

  const bootstrap = createBootstrap(ctx, {
    insert,
    newToken,
    toPublic: (d) => toAccessToken(d),
    anyToken,
  });

  return Object.freeze({
    generate,
    issue,
    register,
    verify: createVerify(ctx),
    get,
    update,
    revoke,
    restore,
    rotate,
    delete: remove,
    list,
    listByOwner,
    batchLoad,
    bootstrap,
    async ready() {
      await ctx.feed?.ready();
    },
    clearCache() {
      ctx.feed?.resync();
    },
    close: () => ctx.close(),
  });
}
