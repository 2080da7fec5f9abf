/**
 * The JWTs minted from an access token (`POST /auth/token`) carry its owner,
 * admin flag and roles, and are checked without reading the token again. So
 * every change that takes something away from the token — revoke, delete,
 * rotate, or an update that drops its admin flag or roles — must also deny
 * those JWTs: a subject entry (`sub` = token id) in the JWT denylist, kept
 * until the last of them has expired. The rule deciding which updates take
 * something away is shared with the seed's admin routes
 * ({@link updateRevokesMinted}, from `tessera/http`).
 * @module
 */

import type { Clock } from '../core/clock.js';
import { mintedLifetimeMs } from '../http/minted-jwts.js';
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
    lifetimeMs: mintedLifetimeMs(signer),
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

export { updateRevokesMinted } from '../http/minted-jwts.js';
