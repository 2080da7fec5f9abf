/**
 * Types of the framework-neutral HTTP layer: a request in, a response out,
 * and the access-token methods the routes call (the seed's shapes, epoch
 * SECONDS), which both `DynamoDBPat` (`tessera/compat/access-tokens`) and the
 * native module (through {@link fromAccessTokens}) satisfy.
 * @module
 */
import type { Clock } from '../core/clock.js';
import type { ThrottleRule } from '../core/throttle.js';
import type { JwtSignerVerifier } from '../jwt/types.js';
import type { Store } from '../stores/contract.js';

/** A request, as an adapter hands it to a handler. */
export interface HttpRequest {
  /** Upper-case method. */
  readonly method: string;
  /** The path as the client sent it (without the query), including any mount prefix. */
  readonly path: string;
  /** Header values by lower-case name (repeated headers joined with `, `). */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** Query parameters; a repeated parameter is an array. */
  readonly query: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** Route parameters (`tokenId`). */
  readonly params: Readonly<Record<string, string | undefined>>;
  /**
   * The parsed body: a JSON value, a form as an object (repeated fields as
   * arrays), `undefined` when there is none, or {@link MALFORMED_BODY}.
   */
  readonly body: unknown;
  /** The client address, as the framework reports it (trust-proxy rules apply). */
  readonly ip: string;
  /** `scheme://host` the request was addressed to, for metadata URLs. */
  readonly origin: string;
}

/** A response: JSON `body` unless `undefined` (then no body). */
export interface HttpResponse {
  /** HTTP status. */
  readonly status: number;
  /** Headers by lower-case name. */
  readonly headers: Readonly<Record<string, string>>;
  /** The JSON body; `undefined`: none. */
  readonly body?: unknown;
}

/** Marks a body whose JSON or form encoding could not be parsed. */
export const MALFORMED_BODY: unique symbol = Symbol('tessera.malformedBody');

/** What `requireJwt` puts on the request (`req.user`, `request.user`, `c.get('user')`). */
export interface JwtUser {
  /** The PAT's token id. */
  sub: string;
  /** The PAT's owner. */
  owner: string;
  /** Whether the PAT is an admin token. */
  admin: boolean;
  /** The PAT's roles when the JWT was minted. */
  roles: string[];
  /** RFC 9068 tokens only. */
  client_id?: string;
  /** RFC 9068 tokens only: space-separated. */
  scope?: string;
}

/** A token record in the seed's shape; times are epoch SECONDS. */
export interface PatRecord {
  /** The token id (21 base62 characters by default). */
  tokenId: string;
  /** Who the token belongs to. */
  owner: string;
  /** Whether it may use the admin routes. */
  isAdmin: boolean;
  /** Its roles (absent: none). */
  roles?: readonly string[];
  /** Creation time, epoch seconds. */
  createdAt: number;
  /** Last successful verify, epoch seconds (written at most once per interval). */
  lastUsedAt?: number | null;
  /** Revocation time, epoch seconds; null or absent while not revoked. */
  revokedAt?: number | null;
  /** Expiry, epoch seconds; null or absent: never. */
  expiresAt?: number | null;
  /** Only when asked for (`includeSecretPhc`), and from `register`. */
  secretPhc?: string;
}

/** Result of `verify` and `bootstrap`, as the seed returns it. */
export type PatVerifyResult =
  | { valid: true; record: PatRecord }
  | { valid: false; reason: string; record?: PatRecord; cause?: unknown };

/** Roles change of `update`: replace, or add / remove atomically. */
export type PatRolesUpdate =
  | readonly string[]
  | { add: readonly string[]; remove?: never }
  | { remove: readonly string[]; add?: never };

/**
 * Exactly the access-token methods the routes call, with the seed's shapes
 * (`@access-tokens/core` `DynamoDBPat`): epoch seconds, `list` yielding records.
 * Errors: a not-found id must reject with a `NotFoundError` or a "Token not
 * found: <id>" message; a taken id with `AlreadyExistsError` or "Token ID
 * already exists: <id>"; bad input with `InvalidInputError`, "Invalid secret
 * PHC string: …" or "Cannot store invalid token record: …" (the facade's).
 */
export interface AccessTokenMethods {
  /**
   * Verify a presented PAT: `{ valid: true, record }` or `{ valid: false, reason }`.
   * @param token - the PAT string
   */
  verify(token: string): Promise<PatVerifyResult>;
  /** Optional: without it, the token endpoint never bootstraps. */
  bootstrap?(token: string, options: { owner: string }): Promise<PatVerifyResult>;
  /**
   * Create a token; the returned `token` is the only time the secret exists in clear.
   * @param input - `owner`; `isAdmin`, `roles`, `expiresAt` (epoch seconds), `tokenId`
   */
  issue(input: {
    owner: string;
    isAdmin?: boolean;
    roles?: string[];
    expiresAt?: number;
    tokenId?: string;
  }): Promise<{ token: string; record: PatRecord }>;
  /**
   * Store a token generated elsewhere, from its PHC hash.
   * @param input - `tokenId`, `secretPhc`, `owner`; `isAdmin`, `roles`, `expiresAt` (epoch seconds)
   */
  register(input: {
    tokenId: string;
    secretPhc: string;
    owner: string;
    isAdmin?: boolean;
    roles?: string[];
    expiresAt?: number;
  }): Promise<PatRecord>;
  /**
   * Change a token.
   * @param tokenId - the token id
   * @param updates - `owner`, `isAdmin`, `secretPhc`, `expiresAt` (epoch seconds, null: never), `roles`
   */
  update(
    tokenId: string,
    updates: {
      owner?: string;
      isAdmin?: boolean;
      secretPhc?: string;
      expiresAt?: number | null;
      roles?: PatRolesUpdate;
    },
  ): Promise<unknown>;
  /**
   * Revoke a token.
   * @param tokenId - the token id
   * @param options - `expiresAt`: a new expiry for the revoked record, epoch seconds
   */
  revoke(tokenId: string, options?: { expiresAt?: number }): Promise<unknown>;
  /**
   * Undo a revocation (the expiry it had before comes back).
   * @param tokenId - the token id
   */
  restore(tokenId: string): Promise<unknown>;
  /**
   * Tokens in id order.
   * @param options - `afterTokenId`, `limit` (tokens), `includeSecretPhc`, `hasRole`
   */
  list(options: {
    afterTokenId?: string;
    limit?: number;
    includeSecretPhc?: boolean;
    hasRole?: string;
  }): AsyncIterable<PatRecord>;
  /**
   * Load several tokens at once.
   * @param tokenIds - the ids
   * @param options - `includeSecretPhc`
   */
  batchLoad(
    tokenIds: Set<string>,
    options?: { includeSecretPhc?: boolean },
  ): Promise<{ found: PatRecord[]; notFound: string[] }>;
  /**
   * Optional: the Tessera store the tokens live in. When present, the auth
   * routes throttle on it by default (see `AuthHandlerOptions.throttle`).
   */
  readonly store?: Store;
}

/** An authenticated caller of introspection or revocation (a PAT, or a JWT minted from one). */
export interface Caller {
  /** The caller's PAT id (a JWT's `sub`). */
  readonly tokenId: string;
  /** Whether the caller is an admin. */
  readonly admin: boolean;
  /** The caller's roles. */
  readonly roles: readonly string[];
}

/** A pino-compatible logger (any object with these methods). */
export interface HttpLogger {
  /** Failed or throttled verifications (reasons and ids, never secrets). */
  warn(obj: object, msg?: string): void;
  /** Unexpected errors (answered 500 or 503). */
  error(obj: object, msg?: string): void;
}

/**
 * Throttling of PAT verification (token endpoint, introspection and
 * revocation callers). Refusals answer 429 with `Retry-After`.
 */
export interface PatThrottleOptions {
  /** Where the windows live (any Tessera store; instances sharing it share the windows). */
  readonly store: Store;
  /** Attempts per client IP, every one counted before verification (default 30 per 60 s); false: off. */
  readonly perIp?: ThrottleRule | false;
  /**
   * Failure budget per (token id, client source: the IP, or its /64 for IPv6),
   * default 10 per 300 s; false: off. Each attempt is charged atomically before
   * its secret is evaluated and given back when the secret was right, so
   * parallel guesses never get more evaluations than `limit`. Kept per source
   * so that nobody can lock a token's owner out by failing with its (public) id.
   */
  readonly perTokenId?: ThrottleRule | false;
  /** Store collection (default `http-throttle`). */
  readonly collection?: string;
}

/** Options shared by every handler group. */
export interface CommonOptions {
  /** The JWT signer/verifier (`tessera/jwt`). */
  readonly signerVerifier: JwtSignerVerifier;
  /** Optional logger: failed verifications (reason only) and unexpected errors. */
  readonly logger?: HttpLogger;
  /** `realm` of `WWW-Authenticate` challenges (default `tessera`). */
  readonly realm?: string;
}

/** Options of the auth handlers (token endpoint, JWKS, metadata, introspection, revocation). */
export interface AuthHandlerOptions extends CommonOptions {
  /** The access-token methods (`DynamoDBPat`, or `fromAccessTokens(native)`). */
  readonly pat: AccessTokenMethods;
  /**
   * Token endpoint error format: `seed` (default) answers as `@access-tokens/express`
   * (`{ error: { message, details? } }`); `oauth` answers RFC 6749 §5.2
   * (`{ error, error_description }`), requires `grant_type`, and refuses more than
   * one client authentication method. Successful answers are the same in both.
   */
  readonly style?: 'seed' | 'oauth';
  /**
   * Try `pat.bootstrap` when a presented token is unknown (`not_found`), never
   * for other failures (default true when `pat.bootstrap` exists).
   */
  readonly bootstrap?: boolean;
  /** Owner recorded for a bootstrapped admin token (default `admin`, as the seed). */
  readonly bootstrapOwner?: string;
  /**
   * Brute-force throttling of client authentication (see {@link PatThrottleOptions}).
   * Default: on, with the default rules, in `pat.store` when the access-token
   * object exposes its store; **otherwise OFF**: the token endpoint then
   * verifies every attempt, unthrottled (a warning is logged once through
   * `logger`). Pass `throttle: { store }` to throttle in any store, or `false`
   * to turn it off explicitly (e.g. behind a gateway that throttles).
   */
  readonly throttle?: PatThrottleOptions | false;
  /**
   * Absolute URL where these routes are mounted (e.g. `https://api.example.com/auth`),
   * for RFC 8414 metadata; default: derived from the request.
   */
  readonly publicUrl?: string;
  /**
   * Role, or roles (any one of them), that let a non-admin caller use
   * introspection (default `introspect`); named as the `scope` of the 403
   * challenge (also when `canIntrospect` decides).
   */
  readonly introspectRole?: string | readonly string[];
  /**
   * Decides who may use introspection, instead of "an admin, or a holder of
   * `introspectRole`" (admins are then allowed only if it says so), e.g. to
   * apply the same role rule as the rest of an application.
   * @example `canIntrospect: (c) => c.admin || c.roles.includes('ops')`
   */
  readonly canIntrospect?: (caller: Caller) => boolean;
  /** `Cache-Control` max-age of the JWKS, seconds (default 300). */
  readonly jwksMaxAgeSeconds?: number;
  /** Time source for throttling (default: the system clock). */
  readonly clock?: Clock;
  /** The PAT id inside a token string, for per-id throttling (default: both seed formats). */
  readonly tokenIdOf?: (token: string) => string | null;
}

/** Options of the admin token handlers. */
export interface AdminHandlerOptions extends CommonOptions {
  /** The access-token methods (`DynamoDBPat`, or `fromAccessTokens(native)`). */
  readonly pat: AccessTokenMethods;
  /** Time source for the expired filter of `GET /tokens` (default: the system clock). */
  readonly clock?: Clock;
}

/** Options of the JWT guard (`requireJwt`). */
export interface GuardOptions extends CommonOptions {}
