/**
 * Authentication of service callers from `Authorization: Bearer <credential>`:
 * the admin credential (`tsa_…`), an access token (PAT) whose roles decide,
 * or a JWT minted by this service's `/auth/token`. Every outcome is counted in
 * `tessera_verify_total{family="credential"}`; the answer to a failure is the
 * same whatever the reason.
 * @module
 */
import type { AccessTokens } from '../access-tokens/index.js';
import type { AdminVerifier } from './admin.js';
import { ADMIN_PREFIX } from './admin.js';
import type { ServiceMetrics } from './metrics.js';
import { type Principal, SERVICE_ROLES } from './roles.js';

/** Verifies JWTs minted by the service. */
export interface JwtPrincipalVerifier {
  /** The principal the JWT names, or null when it is not valid. */
  verify(jwt: string): Promise<Principal | null>;
}

/** Result of {@link Authenticator.authenticate}. */
export type AuthOutcome =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly reason: string };

/** Turns an `Authorization` header into a principal. */
export interface Authenticator {
  authenticate(header: string | undefined): Promise<AuthOutcome>;
}

const BEARER = /^Bearer ([\x21-\x7e]{1,4096})$/i;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

const ADMIN_PRINCIPAL: Principal = Object.freeze({
  kind: 'admin',
  id: 'admin',
  admin: true,
  roles: Object.freeze([SERVICE_ROLES.admin]),
});

/**
 * Create the authenticator.
 * @param options - the admin verifier; access tokens and a JWT verifier when available
 * @example `const auth = createAuthenticator({ admin, accessTokens, metrics });`
 */
export function createAuthenticator(options: {
  admin: AdminVerifier;
  accessTokens?: AccessTokens;
  jwt?: JwtPrincipalVerifier;
  metrics: ServiceMetrics;
}): Authenticator {
  const { admin, accessTokens, jwt, metrics } = options;
  const fail = (reason: string): AuthOutcome => {
    metrics.verify('credential', false, reason);
    return { ok: false, reason };
  };
  const pass = (principal: Principal, how: string): AuthOutcome => {
    metrics.verify('credential', true, how);
    return { ok: true, principal };
  };
  return {
    async authenticate(header) {
      if (header === undefined || header === '') return fail('missing');
      const m = BEARER.exec(header);
      if (!m) return fail('malformed');
      const credential = m[1] as string;
      if (credential.startsWith(ADMIN_PREFIX)) {
        return (await admin.verify(credential))
          ? pass(ADMIN_PRINCIPAL, 'admin')
          : fail('invalid_admin');
      }
      if (JWT_SHAPE.test(credential)) {
        if (!jwt) return fail('jwt_unsupported');
        const p = await jwt.verify(credential);
        return p ? pass(p, 'jwt') : fail('invalid_jwt');
      }
      if (!accessTokens) return fail('unsupported');
      const r = await accessTokens.verify(credential);
      if (!r.valid) return fail(r.reason);
      const rec = r.record;
      return pass(
        {
          kind: 'access_token',
          id: `pat:${rec.tokenId}`,
          owner: rec.owner,
          admin: rec.isAdmin,
          roles: rec.roles,
        },
        'access_token',
      );
    },
  };
}
