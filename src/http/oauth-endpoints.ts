/**
 * RFC 7662 token introspection and RFC 7009 token revocation, for PATs and
 * for minted JWTs, and the client authentication both require.
 *
 * Callers authenticate with a PAT (client_secret_basic, client_secret_post, or
 * a Bearer PAT) or with a Bearer JWT minted here. Introspection is for admins
 * and holders of the introspection role; revocation is for the token's own
 * client (the PAT, or the PAT a JWT was minted from) and for admins.
 * @module
 */
import type { JwtSignerVerifier } from '../jwt/types.js';
import { looksLikeJwt, parseAuthorization, restorePlus } from './credentials.js';
import type { JwtGuard } from './guard.js';
import type { PatGate } from './pat-gate.js';
import {
  basicChallenge,
  bearerChallenge,
  empty,
  json,
  NO_STORE,
  oauthError,
  oauthThrottled,
} from './responses.js';
import {
  type AccessTokenMethods,
  type Caller,
  type HttpRequest,
  type HttpResponse,
  MALFORMED_BODY,
} from './types.js';
import { checkObject, isObject, str } from './validate.js';

export type { Caller } from './types.js';

/** Outcome of caller authentication. */
export type CallerResult =
  | { readonly ok: true; readonly caller: Caller; readonly body: Record<string, unknown> }
  | { readonly ok: false; readonly response: HttpResponse };

/** Authenticate the caller of an OAuth endpoint. */
export type CallerAuth = (req: HttpRequest) => Promise<CallerResult>;

const MAX_TOKEN_PARAMETER_LENGTH = 16_384;

/**
 * Create the caller authentication of introspection and revocation: a PAT
 * (Basic, `client_secret` in the form; throttled by the gate) or a JWT
 * (Bearer), then the form body.
 * @param deps - the PAT gate, the JWT guard and the challenge realm
 * @example
 * ```ts
 * const callerAuth = createCallerAuth({ gate, guard, realm: 'tessera' });
 * const r = await callerAuth(req); // { ok: true, caller, body } or { ok: false, response }
 * ```
 */
export function createCallerAuth(deps: {
  gate: PatGate;
  guard: JwtGuard;
  realm: string;
}): CallerAuth {
  const { gate, guard, realm } = deps;
  const unauthorized = (description: string, bearer: boolean) =>
    oauthError(401, 'invalid_client', description, {
      'www-authenticate': bearer
        ? bearerChallenge(realm, 'invalid_token', description)
        : basicChallenge(realm),
    });

  return async (req) => {
    const raw = req.body === undefined ? {} : req.body;
    if (raw === MALFORMED_BODY || !isObject(raw)) {
      return {
        ok: false,
        response: oauthError(400, 'invalid_request', 'The request body is malformed'),
      };
    }
    const body = raw;
    const auth = parseAuthorization(req.headers.authorization);
    const post =
      typeof body.client_secret === 'string' && body.client_secret !== ''
        ? restorePlus(body.client_secret)
        : undefined;
    const inHeader =
      auth.kind === 'basic' || auth.kind === 'bearer' || auth.kind === 'malformed_basic';
    if (post !== undefined && inHeader) {
      return {
        ok: false,
        response: oauthError(400, 'invalid_request', 'Use only one client authentication method'),
      };
    }
    if (auth.kind === 'bearer' && looksLikeJwt(auth.token)) {
      const user = await guard.userOf(auth.token);
      if (user === null) return { ok: false, response: unauthorized('Invalid access token', true) };
      return {
        ok: true,
        body,
        caller: { tokenId: user.sub, admin: user.admin, roles: user.roles },
      };
    }
    const secret =
      post ??
      (auth.kind === 'basic' ? auth.secret : auth.kind === 'bearer' ? auth.token : undefined);
    if (secret === undefined) {
      return { ok: false, response: unauthorized('Client authentication is required', false) };
    }
    const r = await gate.verify(secret, req.ip, false);
    if (!r.ok && r.throttled) {
      return {
        ok: false,
        response: oauthThrottled(r.retryAfterSeconds),
      };
    }
    if (!r.ok) {
      return {
        ok: false,
        response: unauthorized('Client authentication failed', auth.kind === 'bearer'),
      };
    }
    return {
      ok: true,
      body,
      caller: {
        tokenId: r.record.tokenId,
        admin: r.record.isAdmin === true,
        roles: r.record.roles ?? [],
      },
    };
  };
}

const TOKEN_PARAMS = {
  token: str({ min: 1, max: MAX_TOKEN_PARAMETER_LENGTH }),
  token_type_hint: str({ optional: true }),
};

function tokenParam(body: Record<string, unknown>): string | HttpResponse {
  const issues = checkObject(body, TOKEN_PARAMS, false);
  if (issues.length > 0) {
    return oauthError(400, 'invalid_request', 'The token parameter is missing or malformed');
  }
  return body.token as string;
}

/** Who may introspect: a predicate over the caller, and the roles a refusal names. */
export interface IntrospectAccess {
  /** Whether `caller` may introspect. */
  readonly allowed: (caller: Caller) => boolean;
  /** Roles named as the `scope` of the 403 challenge (none: no scope). */
  readonly scope: readonly string[];
}

/**
 * The introspection access of the auth handler options: `canIntrospect` when
 * given, else admins and holders of any of `introspectRole` (default `introspect`).
 * @param options - `introspectRole` (a role or a list), `canIntrospect`
 * @throws TypeError for an empty or non-string role, or a `canIntrospect` that is not a function
 * @example `introspectAccess({ introspectRole: ['ops', 'audit'] }).allowed({ tokenId, admin: false, roles: ['ops'] }) // true`
 */
export function introspectAccess(options: {
  readonly introspectRole?: string | readonly string[] | undefined;
  readonly canIntrospect?: ((caller: Caller) => boolean) | undefined;
}): IntrospectAccess {
  const given = options.introspectRole ?? 'introspect';
  const roles: readonly string[] = typeof given === 'string' ? [given] : [...given];
  if (roles.some((r) => typeof r !== 'string' || r === '')) {
    throw new TypeError('introspectRole must be a non-empty string or a list of them');
  }
  const scope = options.introspectRole === undefined && options.canIntrospect ? [] : roles;
  if (options.canIntrospect !== undefined) {
    if (typeof options.canIntrospect !== 'function') {
      throw new TypeError('canIntrospect must be a function');
    }
    const decide = options.canIntrospect;
    return { allowed: (caller) => decide(caller) === true, scope };
  }
  return {
    allowed: (caller) => caller.admin || roles.some((r) => caller.roles.includes(r)),
    scope,
  };
}

/**
 * Create the RFC 7662 introspection handler: `{ active: false }` for anything
 * not currently valid, else the token's claims; callers need what `access` allows
 * (by default admin or the `introspect` role), else 403 `insufficient_scope`.
 * @param deps - signer/verifier, access-token methods, caller authentication,
 *   challenge realm and who may introspect
 * @example `const introspect = createIntrospect({ sv, pat, callerAuth, realm, access: introspectAccess({}) });`
 */
export function createIntrospect(deps: {
  sv: JwtSignerVerifier;
  pat: AccessTokenMethods;
  callerAuth: CallerAuth;
  realm: string;
  access: IntrospectAccess;
}): (req: HttpRequest) => Promise<HttpResponse> {
  const { sv, pat, callerAuth, realm, access } = deps;
  const inactive = () => json(200, { active: false }, NO_STORE);
  const scope = access.scope.length > 0 ? access.scope.join(' ') : undefined;
  return async (req) => {
    const auth = await callerAuth(req);
    if (!auth.ok) return auth.response;
    if (!access.allowed(auth.caller)) {
      const description = 'Introspection needs an admin or the introspection role';
      return oauthError(403, 'insufficient_scope', description, {
        'www-authenticate': bearerChallenge(realm, 'insufficient_scope', description, scope),
      });
    }
    const token = tokenParam(auth.body);
    if (typeof token !== 'string') return token;
    if (looksLikeJwt(token)) {
      let payload: Record<string, unknown>;
      try {
        payload = (await sv.verify(token)).payload;
      } catch {
        return inactive();
      }
      const { owner, admin, roles, client_id, ...registered } = payload;
      return json(
        200,
        {
          active: true,
          token_type: 'Bearer',
          ...registered,
          client_id: typeof client_id === 'string' ? client_id : payload.sub,
          ...(typeof owner === 'string' ? { username: owner, owner } : {}),
          admin: admin === true,
          roles: Array.isArray(roles) ? roles : [],
        },
        NO_STORE,
      );
    }
    const r = await pat.verify(token);
    if (!r.valid) return inactive();
    const record = r.record;
    return json(
      200,
      {
        active: true,
        sub: record.tokenId,
        client_id: record.tokenId,
        username: record.owner,
        iat: record.createdAt,
        ...(record.expiresAt ? { exp: record.expiresAt } : {}),
        iss: sv.issuer,
        owner: record.owner,
        admin: record.isAdmin === true,
        roles: record.roles ?? [],
      },
      NO_STORE,
    );
  };
}

/**
 * Create the RFC 7009 revocation handler. A PAT is revoked in the store and
 * its outstanding JWTs are denied (sub entry); a JWT is denied by `jti`
 * until it expires. Unknown or invalid tokens answer 200, as the RFC says.
 * A client may revoke only its own tokens; an admin any.
 * @param deps - signer/verifier, access-token methods, the PAT gate and caller authentication
 * @example `const revoke = createRevoke({ sv, pat, gate, callerAuth });`
 */
export function createRevoke(deps: {
  sv: JwtSignerVerifier;
  pat: AccessTokenMethods;
  gate: PatGate;
  callerAuth: CallerAuth;
}): (req: HttpRequest) => Promise<HttpResponse> {
  const { sv, pat, gate, callerAuth } = deps;
  const done = () => empty(200, NO_STORE);
  const notYours = () =>
    oauthError(400, 'unauthorized_client', 'The token was not issued to this client');
  return async (req) => {
    const auth = await callerAuth(req);
    if (!auth.ok) return auth.response;
    const token = tokenParam(auth.body);
    if (typeof token !== 'string') return token;
    const { caller } = auth;
    if (looksLikeJwt(token)) {
      if (!sv.canRevoke) {
        return oauthError(400, 'unsupported_token_type', 'JWT revocation is not configured');
      }
      let sub: unknown;
      try {
        sub = (await sv.verify(token)).payload.sub;
      } catch {
        return done();
      }
      if (sub !== caller.tokenId && !caller.admin) return notYours();
      await sv.revoke(token);
      return done();
    }
    const r = await gate.verify(token, req.ip, false);
    if (!r.ok && r.throttled) {
      return oauthThrottled(r.retryAfterSeconds);
    }
    if (!r.ok) return done();
    if (r.record.tokenId !== caller.tokenId && !caller.admin) return notYours();
    await pat.revoke(r.record.tokenId);
    if (sv.canRevoke) await sv.revokeSubject(r.record.tokenId);
    return done();
  };
}
