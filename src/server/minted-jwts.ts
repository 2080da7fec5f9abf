/**
 * The JWTs minted from an access token (`POST /auth/token`) carry its owner,
 * admin flag and roles, and are checked without reading the token again. So
 * every change that takes something away from the token — revoke, delete,
 * rotate, or an update that drops its admin flag or roles — must also deny
 * those JWTs: a subject entry (`sub` = token id) in the JWT denylist, kept
 * until the last of them has expired.
 * @module
 */

import type { UpdateInput } from '../access-tokens/types.js';
import type { Clock } from '../core/clock.js';
import { createJwtDenylist, type JwtSignerVerifier } from '../jwt/index.js';
import type { Store } from '../stores/contract.js';

/** Denies the JWTs minted from an access token. */
export interface MintedJwtRevoker {
  /** Deny every JWT minted from `tokenId` so far. */
  revoke(tokenId: string): Promise<void>;
  /** Longest lifetime of a minted JWT, ms (how long a minted JWT may still be valid). */
  readonly lifetimeMs: number;
}

/**
 * The revoker of a signer with a denylist (the service's own).
 * @returns null when the signer cannot revoke (no denylist store)
 * @example `const minted = signerRevoker(signer);`
 */
export function signerRevoker(signer: JwtSignerVerifier): MintedJwtRevoker | null {
  if (!signer.canRevoke) return null;
  return {
    revoke: (tokenId) => signer.revokeSubject(tokenId),
    lifetimeMs: (signer.ttlSeconds + signer.clockToleranceSeconds + 1) * 1000,
  };
}

/**
 * A revoker writing straight to the service's JWT denylist on `store`, for
 * tools that do not hold the signer (the CLI): entries live `lifetimeSeconds`
 * (use the longest JWT lifetime the service can be configured with).
 * @example `const minted = denylistRevoker({ store, clock, lifetimeSeconds: 86_400 });`
 */
export function denylistRevoker(options: {
  store: Store;
  clock: Clock;
  lifetimeSeconds: number;
}): MintedJwtRevoker {
  const { clock, lifetimeSeconds } = options;
  const denylist = createJwtDenylist({ store: options.store, clock });
  return {
    revoke: (tokenId) =>
      denylist.denySubject(tokenId, Math.floor(clock.now() / 1000) + lifetimeSeconds + 1),
    lifetimeMs: (lifetimeSeconds + 1) * 1000,
  };
}

/**
 * Whether an update makes the JWTs minted before it claim more than the
 * token now holds: `isAdmin: false`, a roles replacement or removal, a new
 * owner, a new secret, or an expiry earlier than the last minted JWT's.
 * Decided from the request alone, so a concurrent update cannot hide a
 * removal (adding roles, `isAdmin: true` and removing the expiry never revoke).
 *
 * @param input - the update
 * @param now - ms since epoch
 * @param lifetimeMs - longest lifetime of a minted JWT
 * @example `if (updateRevokesMinted(body, clock.now(), minted.lifetimeMs)) await minted.revoke(id);`
 */
export function updateRevokesMinted(input: UpdateInput, now: number, lifetimeMs: number): boolean {
  if (input.isAdmin === false) return true;
  if (input.owner !== undefined || input.secretPhc !== undefined) return true;
  const roles = input.roles;
  if (roles !== undefined && (Array.isArray(roles) || 'remove' in roles)) return true;
  return typeof input.expiresAt === 'number' && input.expiresAt < now + lifetimeMs;
}
