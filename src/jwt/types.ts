/**
 * Public types of `tessera/jwt`: key sets in the `@access-tokens/express`
 * shape, the signer/verifier and its options. Times in claims are epoch
 * SECONDS (RFC 7519 NumericDate); `clock` readings are ms since epoch.
 * @module
 */
import type { JWK, JWTPayload, JWTVerifyResult } from 'jose';
import type { Clock } from '../core/clock.js';
import type { Store } from '../stores/contract.js';

/** Signature algorithms Tessera signs and accepts. Never `none`, never HMAC. */
export type JwtAlgorithm = 'EdDSA' | 'RS256' | 'ES256';

/** Every supported algorithm, in order of preference. */
export const JWT_ALGORITHMS: readonly JwtAlgorithm[] = Object.freeze(['EdDSA', 'ES256', 'RS256']);

/**
 * A key set, in the seed's shape (`generateKeySet` of `@access-tokens/express`).
 * Each JWK has `kid`, `alg` and `use: "sig"`. Keep `private_keys` secret.
 */
export interface KeySet {
  /** Key id of the key that signs. */
  active_kid: string;
  /** Private JWKs (each with `d`). */
  private_keys: JWK[];
  /** Public JWKs; keys listed here without a private key only verify. */
  public_keys: JWK[];
  /**
   * Retired keys and when each leaves the JWKS (a Tessera addition, absent
   * in the seed's sets and when nothing is retiring): written by
   * `exportKeySet()`, so a set saved and loaded again still drops each retired
   * key once the last token it signed has expired. Keys not listed stay
   * published until they are retired.
   */
  retiring_keys?: RetiringKey[];
}

/** A retired key of a {@link KeySet}, still published until `remove_at`. */
export interface RetiringKey {
  /** Key id (of a key in `private_keys` or `public_keys`; never `active_kid`). */
  kid: string;
  /** When the key leaves the JWKS and stops verifying: epoch SECONDS (RFC 7519 NumericDate). */
  remove_at: number;
}

/** A public JWK as published in the JWKS (public members only). */
export interface PublicJwk {
  /** Key type: `OKP` (Ed25519), `EC` (P-256) or `RSA`. */
  readonly kty: string;
  /** Key id. */
  readonly kid: string;
  /** The algorithm the key signs with. */
  readonly alg: JwtAlgorithm;
  /** Always `sig`. */
  readonly use: 'sig';
  /** Curve (`Ed25519`, `P-256`). */
  readonly crv?: string;
  /** Public x coordinate (OKP, EC), base64url. */
  readonly x?: string;
  /** Public y coordinate (EC), base64url. */
  readonly y?: string;
  /** RSA modulus, base64url. */
  readonly n?: string;
  /** RSA public exponent, base64url. */
  readonly e?: string;
}

/** A JSON Web Key Set (RFC 7517 §5). */
export interface PublicJwks {
  /** The published keys. */
  readonly keys: readonly PublicJwk[];
}

/**
 * Claim profile of minted tokens.
 * - `seed`: header `typ: "JWT"`; claims as `@access-tokens/express` mints them.
 * - `at+jwt`: RFC 9068 access tokens: header `typ: "at+jwt"`, `aud` required,
 *   `client_id` required in the claims, `scope` optional.
 */
export type JwtProfile = 'seed' | 'at+jwt';

/** Claims the seed puts in a minted token (the PAT's id, owner, admin flag and roles). */
export interface SeedClaims {
  /** The PAT's token id. */
  sub: string;
  /** The PAT's owner. */
  owner: string;
  /** Whether the PAT is an admin token. */
  admin: boolean;
  /** The PAT's roles. */
  roles: string[];
}

/** Claims passed to `sign`: any JSON object; `iss`, `iat`, `exp`, `jti`, `nbf` are set by the signer. */
export type JwtClaims = JWTPayload & Record<string, unknown>;

/** Options of {@link buildSignerVerifier}. */
export interface SignerVerifierOptions {
  /** Keys; `active_kid` signs. */
  readonly keySet: KeySet;
  /** The `iss` claim written and required. */
  readonly issuer: string;
  /**
   * Token lifetime: seconds, or a duration string such as `"10m"`, `"1h"`, `"0s"`
   * (units s, m, h, d, w, y). 0..31536000 s. Default 600 s (10 minutes).
   */
  readonly ttl?: number | string;
  /** The `aud` claim written and required; required with the `at+jwt` profile. */
  readonly audience?: string | readonly string[];
  /** Leeway for `exp`/`nbf` checks, seconds, 0..300 (default 0, as the seed). */
  readonly clockToleranceSeconds?: number;
  /** Claim profile (default `seed`). */
  readonly profile?: JwtProfile;
  /** Write `nbf = iat` (default false, as the seed). */
  readonly notBefore?: boolean;
  /**
   * Accepted algorithms (default: those of the configured keys). Every key's
   * `alg` must be listed. `none` and HMAC algorithms are never accepted.
   */
  readonly algorithms?: readonly JwtAlgorithm[];
  /** Time source (default: the system clock). */
  readonly clock?: Clock;
  /**
   * A Tessera store for the revocation denylist (jti and sub entries held
   * until the tokens they cover expire). Without it, `verify` does not check
   * revocation and `revoke`/`revokeSubject` throw.
   */
  readonly store?: Store;
  /** Store collection of the denylist (default `jwt-denylist`). */
  readonly denylistCollection?: string;
}

/** Per-call options of `sign`. */
export interface SignOptions {
  /** Override the configured audience for this token. */
  readonly audience?: string | readonly string[];
  /**
   * Latest expiry, epoch SECONDS (a fraction is rounded down): the token's
   * `exp` is the earlier of `iat + ttl` and this, so a token never outlives
   * the credential it was minted from (e.g. a PAT's `expiresAt`). Must be
   * after `iat`: a token that would be expired at once is refused.
   */
  readonly expiresAt?: number;
}

/** The JWT signer/verifier (see {@link buildSignerVerifier}). */
export interface JwtSignerVerifier {
  /** The `iss` value. */
  readonly issuer: string;
  /** Token lifetime in seconds. */
  readonly ttlSeconds: number;
  /** Leeway for `exp`/`nbf`, seconds. */
  readonly clockToleranceSeconds: number;
  /** The configured audience, if any. */
  readonly audience: string | readonly string[] | undefined;
  /** The claim profile. */
  readonly profile: JwtProfile;
  /** Accepted algorithms. */
  readonly algorithms: readonly JwtAlgorithm[];
  /** Key id that signs now. */
  readonly activeKid: string;
  /** Whether a denylist store is configured (`revoke`, `revokeSubject` work). */
  readonly canRevoke: boolean;
  /** The current JWKS (public keys only; retired keys drop out when their last token expires). */
  readonly jwks: PublicJwks;
  /**
   * Mint a token: the claims plus `iss`, `iat`, `exp`, `jti` (and `nbf`, `aud` when configured);
   * `exp` is `iat + ttl`, or `options.expiresAt` when that is earlier.
   * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) when claims are not a JSON object,
   *   or (`at+jwt`) lack `sub` or `client_id`; field `expiresAt` when `options.expiresAt` is
   *   not a finite number or not after `iat` (the token would be expired at once)
   */
  sign(claims: JwtClaims, options?: SignOptions): Promise<string>;
  /**
   * Verify a token: signature by a published key chosen by `kid`, algorithm
   * allowlist, `typ`, `iss`, `aud`, `exp`, `nbf`, and the denylist when a store is set.
   * @throws a `jose` error (`ERR_JWS_INVALID`, `ERR_JWT_EXPIRED`, `ERR_JWKS_NO_MATCHING_KEY`, ...)
   * @throws RevokedError (`ERR_TESSERA_REVOKED`) for a revoked token
   */
  verify(jws: string): Promise<JWTVerifyResult<JwtClaims>>;
  /**
   * Revoke one token (RFC 7009): its `jti` is denied until it expires. A token
   * that does not verify (bad signature, expired, revoked) is ignored.
   * @returns whether the token was valid and is now revoked
   * @throws ConfigError (`ERR_TESSERA_CONFIG`) without a store
   */
  revoke(jws: string): Promise<boolean>;
  /**
   * Revoke every token issued so far for `sub` (a PAT id): tokens with
   * `iat <= now` are denied until the last of them expires.
   * @throws ConfigError (`ERR_TESSERA_CONFIG`) without a store
   */
  revokeSubject(sub: string): Promise<void>;
  /**
   * Add a key: a private JWK (can sign once activated) or a public one (verify only).
   * It is published in the JWKS at once, so verifiers can fetch it before it signs.
   * @throws ConfigError (`ERR_TESSERA_CONFIG`) for a bad key or a duplicate `kid`
   */
  addKey(jwk: JWK): void;
  /**
   * Make `kid` the signing key. The previous active key is retired (see `retire`).
   * @throws ConfigError (`ERR_TESSERA_CONFIG`) for an unknown, public-only or removed key
   */
  activate(kid: string): void;
  /**
   * Stop publishing `kid` once the last token it can have signed has expired:
   * it stays in the JWKS and verifies until `now + ttl + clockTolerance`.
   * @throws ConfigError (`ERR_TESSERA_CONFIG`) for the active key or an unknown key
   */
  retire(kid: string): void;
  /**
   * The current keys in the seed's shape (to persist after a rotation), plus
   * `retiring_keys` when keys are retiring, so that a set saved and loaded
   * again drops each retired key at the same time. Secret.
   * @example `await writeFile(path, JSON.stringify(sv.exportKeySet()), { mode: 0o600 });`
   */
  exportKeySet(): KeySet;
}
