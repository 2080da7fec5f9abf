/**
 * When the JWTs minted from an access token must be denied. A minted JWT
 * carries its token's owner, admin flag and roles and is checked without
 * reading the token again, so every change that takes something away from
 * the token (revoke, delete, rotate, or an update that drops its admin flag
 * or roles) must also deny them: a subject entry (`sub` = token id) in the
 * JWT denylist. One rule for the seed's admin routes, the service's `/v1`
 * routes and the CLI.
 * @module
 */
import type { JwtSignerVerifier } from '../jwt/types.js';

/** The fields of an access-token update the rule looks at; `expiresAt` in ms since epoch. */
export interface TokenUpdateFields {
  /** A new owner. */
  readonly owner?: string | undefined;
  /** A new admin flag. */
  readonly isAdmin?: boolean | undefined;
  /** A new secret hash. */
  readonly secretPhc?: string | undefined;
  /** A roles replacement (array), `{ add }` or `{ remove }`. */
  readonly roles?:
    | readonly string[]
    | { readonly add?: readonly string[]; readonly remove?: readonly string[] }
    | undefined;
  /** A new expiry, ms since epoch; `null` removes it. */
  readonly expiresAt?: number | null | undefined;
}

/**
 * Whether an update makes the JWTs minted before it claim more than the
 * token now holds: `isAdmin: false`, a roles replacement or removal, a new
 * owner, a new secret, or an expiry earlier than the last minted JWT's.
 * Decided from the request alone, so a concurrent update cannot hide a
 * removal (adding roles, `isAdmin: true` and removing the expiry never revoke).
 *
 * @param input - the update (expiry in ms since epoch)
 * @param now - ms since epoch
 * @param lifetimeMs - longest lifetime of a minted JWT, ms (see {@link mintedLifetimeMs})
 * @example `if (updateRevokesMinted(body, clock.now(), mintedLifetimeMs(sv))) await sv.revokeSubject(id);`
 */
export function updateRevokesMinted(
  input: TokenUpdateFields,
  now: number,
  lifetimeMs: number,
): boolean {
  if (input.isAdmin === false) return true;
  if (input.owner !== undefined || input.secretPhc !== undefined) return true;
  const roles = input.roles;
  if (roles !== undefined && (Array.isArray(roles) || 'remove' in roles)) return true;
  return typeof input.expiresAt === 'number' && input.expiresAt < now + lifetimeMs;
}

/**
 * How long a JWT minted by `sv` may still be accepted after it was minted, ms:
 * its lifetime, the clock tolerance, and one second of `iat` rounding.
 * @param sv - the signer/verifier (`ttlSeconds`, `clockToleranceSeconds`)
 * @example `mintedLifetimeMs({ ttlSeconds: 600, clockToleranceSeconds: 0 }) // 601000`
 */
export function mintedLifetimeMs(
  sv: Pick<JwtSignerVerifier, 'ttlSeconds' | 'clockToleranceSeconds'>,
): number {
  return (sv.ttlSeconds + sv.clockToleranceSeconds + 1) * 1000;
}
