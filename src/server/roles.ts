/**
 * The roles the service checks. A credential holding `tessera:admin` (the
 * admin credential, and access tokens with `isAdmin`) may call every route;
 * other credentials need one of the roles a route lists. Application roles
 * (`reader`, `editor`...) never grant anything here: service roles carry the
 * `tessera:` prefix.
 * @module
 */

/** Every service role, with what it grants. */
export const SERVICE_ROLES = {
  /** Everything. */
  admin: 'tessera:admin',
  /** Create, use, peek and drain action tokens. */
  actionTokens: 'tessera:action-tokens',
  /** Issue, answer and inspect challenges. */
  challenges: 'tessera:challenges',
  /** Manage access tokens (issue, list, update, revoke, rotate, delete). */
  accessTokens: 'tessera:access-tokens',
  /** Verify access tokens (the verify endpoint for other services). */
  verify: 'tessera:verify',
  /** Create, validate, list and destroy sessions and their tokens. */
  sessions: 'tessera:sessions',
  /** Read `/metrics` when it is protected. */
  metrics: 'tessera:metrics',
  /** Introspect any token (`POST /auth/introspect`, RFC 7662): its owner, roles and expiry. */
  introspect: 'tessera:introspect',
} as const;

/** One of {@link SERVICE_ROLES}. */
export type ServiceRole = (typeof SERVICE_ROLES)[keyof typeof SERVICE_ROLES];

/** Who made a request. */
export interface Principal {
  /** How it authenticated. */
  readonly kind: 'admin' | 'access_token' | 'jwt';
  /** Stable identity for rate limits and logs (never a secret): `admin`, `pat:<id>`, `jwt:<sub>`. */
  readonly id: string;
  /** The owner of the credential, when it has one. */
  readonly owner?: string;
  /** Whether it may do everything. */
  readonly admin: boolean;
  /** Its roles. */
  readonly roles: readonly string[];
}

/**
 * Whether `principal` may call a route that needs one of `required`: an
 * admin, a holder of `tessera:admin`, or a holder of one of `required`. The
 * one rule of every route, introspection included.
 */
export function hasAnyRole(
  principal: Pick<Principal, 'admin' | 'roles'>,
  required: readonly string[],
): boolean {
  if (principal.admin || principal.roles.includes(SERVICE_ROLES.admin)) return true;
  for (const r of required) if (principal.roles.includes(r)) return true;
  return false;
}
