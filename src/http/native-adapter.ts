/**
 * Fit the native access-tokens module (`tessera/access-tokens`, times in ms,
 * paged `list`) to {@link AccessTokenMethods} (the seed's shapes, epoch
 * seconds, `list` yielding records). The compat facade `DynamoDBPat` already
 * fits and needs no adapter. Typed structurally, so this layer does not
 * depend on the domain module.
 * @module
 */
import type { Store } from '../stores/contract.js';
import type { AccessTokenMethods, PatRecord, PatVerifyResult } from './types.js';

/** A native token (ms since epoch). */
interface NativeToken {
  readonly tokenId: string;
  readonly owner: string;
  readonly isAdmin: boolean;
  readonly roles: readonly string[];
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
  readonly revokedAt: number | null;
  readonly expiresAt: number | null;
  readonly secretPhc?: string;
}

type NativeVerifyResult =
  | { readonly valid: true; readonly record: NativeToken }
  | {
      readonly valid: false;
      readonly reason: string;
      readonly record?: NativeToken;
      readonly cause?: unknown;
    };

type NativeRoles =
  | readonly string[]
  | { readonly add: readonly string[]; readonly remove?: never }
  | { readonly remove: readonly string[]; readonly add?: never };

/** The methods of `createAccessTokens(...)` this adapter uses. */
export interface NativeAccessTokensLike {
  /** The store the tokens live in, when the object exposes it (passed on: routers throttle on it). */
  readonly store?: Store;
  /** `verify(token)` of the native module. */
  verify(token: string): Promise<NativeVerifyResult>;
  /** `bootstrap(token, { owner })` of the native module. */
  bootstrap(token: string, input: { owner: string }): Promise<NativeVerifyResult>;
  /** `issue(...)` of the native module (`expiresAt` in ms since epoch). */
  issue(input: {
    owner: string;
    isAdmin?: boolean;
    roles?: readonly string[];
    expiresAt?: number | null;
    tokenId?: string;
  }): Promise<{ token: string; record: NativeToken }>;
  /** `register(...)` of the native module (`expiresAt` in ms since epoch). */
  register(input: {
    tokenId: string;
    secretPhc: string;
    owner: string;
    isAdmin?: boolean;
    roles?: readonly string[];
    expiresAt?: number | null;
  }): Promise<NativeToken>;
  /** `update(tokenId, ...)` of the native module (`expiresAt` in ms since epoch). */
  update(
    tokenId: string,
    input: {
      owner?: string;
      isAdmin?: boolean;
      roles?: NativeRoles;
      secretPhc?: string;
      expiresAt?: number | null;
    },
  ): Promise<unknown>;
  /** `revoke(tokenId, { expiresAt })` of the native module (ms since epoch). */
  revoke(tokenId: string, options?: { expiresAt?: number | null }): Promise<unknown>;
  /** `restore(tokenId)` of the native module. */
  restore(tokenId: string): Promise<unknown>;
  /** `list(...)` of the native module: pages with opaque cursors. */
  list(input?: {
    limit?: number;
    cursor?: string | null;
    afterTokenId?: string;
    hasRole?: string;
    includeSecretPhc?: boolean;
  }): Promise<{ readonly tokens: readonly NativeToken[]; readonly cursor: string | null }>;
  /** `batchLoad(ids, options)` of the native module. */
  batchLoad(
    tokenIds: Iterable<string>,
    options?: { includeSecretPhc?: boolean },
  ): Promise<{ found: NativeToken[]; notFound: string[] }>;
}

const seconds = (ms: number) => Math.floor(ms / 1000);
const secondsOrNull = (ms: number | null) => (ms === null ? null : seconds(ms));
const ms = (s: number | null | undefined) => (s === undefined || s === null ? s : s * 1000);

/**
 * A native token in the seed's shape (epoch seconds, rounded down; `roles` omitted when empty).
 * @param t - a native token (times in ms since epoch)
 * @example `toSeedRecord(token).createdAt // e.g. 1767225600`
 */
export function toSeedRecord(t: NativeToken): PatRecord {
  return {
    tokenId: t.tokenId,
    owner: t.owner,
    isAdmin: t.isAdmin,
    ...(t.roles.length > 0 ? { roles: [...t.roles] } : {}),
    createdAt: seconds(t.createdAt),
    lastUsedAt: secondsOrNull(t.lastUsedAt),
    revokedAt: secondsOrNull(t.revokedAt),
    expiresAt: secondsOrNull(t.expiresAt),
    ...(t.secretPhc !== undefined ? { secretPhc: t.secretPhc } : {}),
  };
}

function toSeedResult(r: NativeVerifyResult): PatVerifyResult {
  if (r.valid) return { valid: true, record: toSeedRecord(r.record) };
  return {
    valid: false,
    reason: r.reason,
    ...(r.record ? { record: toSeedRecord(r.record) } : {}),
    ...(r.cause !== undefined ? { cause: r.cause } : {}),
  };
}

/**
 * Adapt the native access-tokens API to the HTTP layer.
 *
 * @param native - what `createAccessTokens(...)` returns
 * @returns the access-token methods in the seed's shapes, with `store` when `native`
 *   exposes one (the auth routes then throttle on it by default)
 * @example
 * ```ts
 * const pat = fromAccessTokens(createAccessTokens({ store, keyring }));
 * app.use('/auth', createAuthRouter({ pat, signerVerifier }));
 * ```
 */
export function fromAccessTokens(native: NativeAccessTokensLike): AccessTokenMethods {
  return Object.freeze({
    ...(native.store !== undefined ? { store: native.store } : {}),
    verify: async (token: string) => toSeedResult(await native.verify(token)),
    bootstrap: async (token: string, options: { owner: string }) =>
      toSeedResult(await native.bootstrap(token, options)),
    async issue(input: Parameters<AccessTokenMethods['issue']>[0]) {
      const r = await native.issue({ ...input, expiresAt: ms(input.expiresAt) });
      return { token: r.token, record: toSeedRecord(r.record) };
    },
    async register(input: Parameters<AccessTokenMethods['register']>[0]) {
      return toSeedRecord(await native.register({ ...input, expiresAt: ms(input.expiresAt) }));
    },
    async update(tokenId: string, updates: Parameters<AccessTokenMethods['update']>[1]) {
      const { expiresAt, ...rest } = updates;
      await native.update(tokenId, {
        ...rest,
        ...(expiresAt !== undefined ? { expiresAt: ms(expiresAt) } : {}),
      });
    },
    async revoke(tokenId: string, options?: { expiresAt?: number }) {
      await native.revoke(
        tokenId,
        options?.expiresAt !== undefined ? { expiresAt: options.expiresAt * 1000 } : undefined,
      );
    },
    async restore(tokenId: string) {
      await native.restore(tokenId);
    },
    async *list(options: Parameters<AccessTokenMethods['list']>[0]) {
      let remaining = options.limit ?? Number.POSITIVE_INFINITY;
      let cursor: string | null = null;
      let first = true;
      while (remaining > 0) {
        const page = await native.list({
          limit: Math.min(1000, remaining),
          ...(first && options.afterTokenId ? { afterTokenId: options.afterTokenId } : {}),
          ...(cursor !== null ? { cursor } : {}),
          ...(options.hasRole !== undefined ? { hasRole: options.hasRole } : {}),
          ...(options.includeSecretPhc !== undefined
            ? { includeSecretPhc: options.includeSecretPhc }
            : {}),
        });
        first = false;
        for (const t of page.tokens) {
          yield toSeedRecord(t);
          if (--remaining <= 0) return;
        }
        if (page.cursor === null) return;
        cursor = page.cursor;
      }
    },
    async batchLoad(tokenIds: Set<string>, options?: { includeSecretPhc?: boolean }) {
      const r = await native.batchLoad(tokenIds, options);
      return { found: r.found.map(toSeedRecord), notFound: r.notFound };
    },
  });
}
