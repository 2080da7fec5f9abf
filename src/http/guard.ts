/**
 * `requireJwt`, `requireAdmin` and `requireRole` without a framework: the
 * seed's statuses and bodies (`{ error: { message, code? } }`), plus RFC 6750
 * `WWW-Authenticate` challenges on every 401 and 403, and type checks on the
 * claims the seed copied blindly.
 * @module
 */
import { errors } from 'jose';
import { isTesseraError } from '../core/errors.js';
import type { JwtClaims } from '../jwt/types.js';
import { bearerChallenge, seedError } from './responses.js';
import type { GuardOptions, HttpResponse, JwtUser } from './types.js';

/** Outcome of {@link JwtGuard.authenticate}. */
export type GuardResult =
  | { readonly ok: true; readonly user: JwtUser }
  | { readonly ok: false; readonly response: HttpResponse };

/** The guard (see {@link createJwtGuard}). */
export interface JwtGuard {
  /** Check `Authorization: Bearer <jwt>`. */
  authenticate(authorization: string | undefined): Promise<GuardResult>;
  /** Verify a JWT string and turn its claims into a user (null when anything is wrong). */
  userOf(jws: string): Promise<JwtUser | null>;
  /** `null` when `user` is an admin, else the 401/403 answer. */
  requireAdmin(user: JwtUser | undefined): HttpResponse | null;
  /** `null` when `user` holds `role`, else the 401/403 answer. */
  requireRole(user: JwtUser | undefined, role: string): HttpResponse | null;
}

/**
 * The user a verified payload describes: `sub` and `owner` strings, `admin` a
 * boolean (absent: false), `roles` an array of strings (absent: empty).
 * @param payload - a verified JWT payload
 * @throws a `jose` JWTClaimValidationFailed (`ERR_JWT_CLAIM_VALIDATION_FAILED`) for anything else
 * @example `const user = userFromClaims((await signerVerifier.verify(jwt)).payload);`
 */
export function userFromClaims(payload: JwtClaims): JwtUser {
  const { sub, owner, admin, roles } = payload;
  if (typeof sub !== 'string' || sub === '') {
    throw new errors.JWTClaimValidationFailed(
      '"sub" claim must be a non-empty string',
      payload,
      'sub',
      'invalid',
    );
  }
  if (typeof owner !== 'string') {
    throw new errors.JWTClaimValidationFailed(
      '"owner" claim must be a string',
      payload,
      'owner',
      'invalid',
    );
  }
  if (admin !== undefined && typeof admin !== 'boolean') {
    throw new errors.JWTClaimValidationFailed(
      '"admin" claim must be a boolean',
      payload,
      'admin',
      'invalid',
    );
  }
  if (roles !== undefined && !(Array.isArray(roles) && roles.every((r) => typeof r === 'string'))) {
    throw new errors.JWTClaimValidationFailed(
      '"roles" claim must be an array of strings',
      payload,
      'roles',
      'invalid',
    );
  }
  const user: JwtUser = {
    sub,
    owner,
    admin: admin === true,
    roles: [...((roles as string[]) ?? [])],
  };
  if (typeof payload.client_id === 'string') user.client_id = payload.client_id;
  if (typeof payload.scope === 'string') user.scope = payload.scope;
  return user;
}

function describe(code: string | undefined): string {
  if (code === 'ERR_JWT_EXPIRED') return 'The access token expired';
  if (code === 'ERR_TESSERA_REVOKED') return 'The access token has been revoked';
  return 'The access token is invalid';
}

/**
 * The `requireAdmin` decision: `null` for an admin, else 401 "User not
 * authenticated" (no user) or 403 "Admin access required", with RFC 6750 challenges.
 *
 * @param user - what `requireJwt` found
 * @param realm - challenge realm (default `tessera`)
 * @example `const denied = adminAnswer(req.user); if (denied) return send(denied);`
 */
export function adminAnswer(user: JwtUser | undefined, realm = 'tessera'): HttpResponse | null {
  if (!user) {
    return seedError(
      401,
      'User not authenticated',
      {},
      { 'www-authenticate': bearerChallenge(realm) },
    );
  }
  if (user.admin === true) return null;
  return seedError(
    403,
    'Admin access required',
    {},
    { 'www-authenticate': bearerChallenge(realm, 'insufficient_scope', 'Admin access required') },
  );
}

/**
 * The `requireRole` decision: `null` when `user.roles` holds `role`, else 401
 * "User not authenticated" or 403 "Access denied" (challenge with `scope`).
 *
 * @param user - what `requireJwt` found
 * @param role - the required role
 * @param realm - challenge realm (default `tessera`)
 * @example `const denied = roleAnswer(req.user, 'editor');`
 */
export function roleAnswer(
  user: JwtUser | undefined,
  role: string,
  realm = 'tessera',
): HttpResponse | null {
  if (!user) {
    return seedError(
      401,
      'User not authenticated',
      {},
      { 'www-authenticate': bearerChallenge(realm) },
    );
  }
  if (Array.isArray(user.roles) && user.roles.includes(role)) return null;
  return seedError(
    403,
    'Access denied',
    {},
    { 'www-authenticate': bearerChallenge(realm, 'insufficient_scope', 'Access denied', role) },
  );
}

/**
 * Create the guard.
 *
 * @param options - `signerVerifier`; `realm` (default `tessera`); `logger`
 * @example
 * ```ts
 * const guard = createJwtGuard({ signerVerifier });
 * const r = await guard.authenticate(req.headers.authorization);
 * if (!r.ok) return r.response;
 * ```
 */
export function createJwtGuard(options: GuardOptions): JwtGuard {
  const sv = options.signerVerifier;
  const realm = options.realm ?? 'tessera';
  const logger = options.logger;
  return Object.freeze({
    async authenticate(authorization: string | undefined): Promise<GuardResult> {
      const m = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
      if (!m) {
        return {
          ok: false,
          response: seedError(
            401,
            'Missing or invalid Authorization header',
            {},
            { 'www-authenticate': bearerChallenge(realm) },
          ),
        };
      }
      try {
        const { payload } = await sv.verify(m[1] as string);
        return { ok: true, user: userFromClaims(payload) };
      } catch (err) {
        let code: string | undefined;
        if (err instanceof errors.JOSEError) code = err.code;
        else if (isTesseraError(err, 'ERR_TESSERA_REVOKED')) code = err.code;
        else logger?.error({ err }, 'tessera: JWT verification failed unexpectedly');
        const challenge = bearerChallenge(realm, 'invalid_token', describe(code));
        return {
          ok: false,
          response: seedError(401, 'Invalid JWT', code ? { code } : {}, {
            'www-authenticate': challenge,
          }),
        };
      }
    },

    async userOf(jws: string): Promise<JwtUser | null> {
      try {
        return userFromClaims((await sv.verify(jws)).payload);
      } catch {
        return null;
      }
    },

    requireAdmin: (user: JwtUser | undefined) => adminAnswer(user, realm),
    requireRole: (user: JwtUser | undefined, role: string) => roleAnswer(user, role, realm),
  });
}
