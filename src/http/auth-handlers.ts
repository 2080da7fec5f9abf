/**
 * The auth routes without a framework: the PAT-to-JWT token endpoint (the
 * seed's `POST /token`, and RFC 6749 with `style: 'oauth'`), the RFC 7517
 * JWKS, RFC 8414 metadata, and (in `oauth-endpoints.ts`) RFC 7662
 * introspection and RFC 7009 revocation.
 * @module
 */

import { isTesseraError } from '../core/errors.js';
import { type ClientCredential, parseAuthorization, restorePlus } from './credentials.js';
import { createJwtGuard } from './guard.js';
import {
  createCallerAuth,
  createIntrospect,
  createRevoke,
  introspectAccess,
} from './oauth-endpoints.js';
import { createPatGate } from './pat-gate.js';
import {
  basicChallenge,
  bearerChallenge,
  internalError,
  json,
  NO_STORE,
  oauthError,
  oauthThrottled,
  seedError,
} from './responses.js';
import {
  type AuthHandlerOptions,
  type HttpRequest,
  type HttpResponse,
  MALFORMED_BODY,
} from './types.js';
import { checkObject, type Issue, prettify, str } from './validate.js';

/** A handler: request in, response out. Never throws (unexpected errors answer 500). */
export type Handler = (req: HttpRequest) => Promise<HttpResponse>;

/** The auth handlers, by route name (see `AUTH_ROUTES`). */
export interface AuthHandlers {
  /** `POST /token`: PAT → JWT (the seed's endpoint; RFC 6749 §4.4 with `style: 'oauth'`). */
  readonly token: Handler;
  /** `POST /introspect`: RFC 7662, for admins or callers with `introspectRole` (or whom `canIntrospect` accepts). */
  readonly introspect: Handler;
  /** `POST /revoke`: RFC 7009, a PAT or a minted JWT. */
  readonly revoke: Handler;
  /** `GET /.well-known/jwks.json`: RFC 7517, public keys only, cacheable. */
  readonly jwks: Handler;
  /** `GET /.well-known/oauth-authorization-server`: RFC 8414 metadata. */
  readonly metadata: Handler;
}

/** Path of the JWKS below the mount point. */
export const JWKS_PATH = '/.well-known/jwks.json';
/** Path of the RFC 8414 metadata below the mount point. */
export const METADATA_PATH = '/.well-known/oauth-authorization-server';

const TOKEN_FIELDS = {
  grant_type: str({ optional: true }),
  client_id: str({ optional: true }),
  client_secret: str({ optional: true }),
  state: str({ optional: true }),
};
const OAUTH_TOKEN_FIELDS = { ...TOKEN_FIELDS, scope: str({ optional: true }) };

/**
 * An RFC 6749 error description (ASCII, no quotes or backslashes) for validation issues.
 * @param issues - the validation issues (only their first path segments are named)
 * @example `describeIssues([{ path: ['state'], message: '…' }]) // 'Malformed parameters: state'`
 */
export function describeIssues(issues: readonly Issue[]): string {
  const fields = [...new Set(issues.map((i) => String(i.path[0] ?? 'body')))];
  return `Malformed parameters: ${fields.join(', ')}`.replace(
    /[^\x20-\x21\x23-\x5b\x5d-\x7e]/g,
    '?',
  );
}

/** `exp - iat` of a JWT just minted here, seconds. */
function lifetimeOf(jws: string): number {
  const payload = JSON.parse(
    Buffer.from(jws.slice(jws.indexOf('.') + 1, jws.lastIndexOf('.')), 'base64url').toString(),
  ) as { iat: number; exp: number };
  return payload.exp - payload.iat;
}

/**
 * Create the auth handlers.
 *
 * @param options - see {@link AuthHandlerOptions}; `pat` and `signerVerifier` are required;
 *   throttling is on by default only when `pat.store` exists (else pass `throttle: { store }`)
 * @throws TypeError when `pat` or `signerVerifier` is missing, or `publicUrl` is not an http(s) URL
 * @throws RangeError for a bad throttle rule or `jwksMaxAgeSeconds`
 * @example
 * ```ts
 * const auth = createAuthHandlers({ pat, signerVerifier, style: 'oauth', throttle: { store } });
 * const res = await auth.token({ method: 'POST', path: '/token', headers, query: {}, params: {}, body, ip, origin });
 * ```
 */
export function createAuthHandlers(options: AuthHandlerOptions): AuthHandlers {
  if (typeof options?.pat?.verify !== 'function') {
    throw new TypeError('pat must implement the access-token methods (verify, ...)');
  }
  if (typeof options.signerVerifier?.sign !== 'function') {
    throw new TypeError('signerVerifier is required (tessera/jwt buildSignerVerifier)');
  }
  const sv = options.signerVerifier;
  const oauth = options.style === 'oauth';
  if (options.style !== undefined && options.style !== 'seed' && !oauth) {
    throw new TypeError('style must be "seed" or "oauth"');
  }
  const realm = options.realm ?? 'tessera';
  const logger = options.logger;
  let publicUrl: string | undefined;
  if (options.publicUrl !== undefined) {
    const u = new URL(options.publicUrl);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') {
      throw new TypeError('publicUrl must be an http(s) URL');
    }
    publicUrl = options.publicUrl.replace(/\/+$/, '');
  }
  const jwksMaxAge = options.jwksMaxAgeSeconds ?? 300;
  if (!Number.isSafeInteger(jwksMaxAge) || jwksMaxAge < 0) {
    throw new RangeError('jwksMaxAgeSeconds must be a non-negative integer');
  }
  const gate = createPatGate(options);
  const guard = createJwtGuard(options);
  const callerAuth = createCallerAuth({ gate, guard, realm });

  const invalidRequest = (issues: readonly Issue[] | null): HttpResponse =>
    oauth
      ? oauthError(
          400,
          'invalid_request',
          issues ? describeIssues(issues) : 'The request body is malformed',
        )
      : seedError(400, 'Invalid request body', {
          details: issues ? prettify(issues) : 'Malformed request body',
        });

  const clientFailure = (
    status: 400 | 401,
    seedMessage: string,
    description: string,
    method: ClientCredential['method'] | null,
  ): HttpResponse => {
    const challenge =
      method === 'bearer'
        ? bearerChallenge(realm, 'invalid_token', description)
        : basicChallenge(realm);
    if (oauth)
      return oauthError(401, 'invalid_client', description, { 'www-authenticate': challenge });
    return seedError(
      status,
      seedMessage,
      {},
      status === 401 ? { 'www-authenticate': challenge } : {},
    );
  };

  async function token(req: HttpRequest): Promise<HttpResponse> {
    const body = req.body === undefined ? {} : req.body;
    if (body === MALFORMED_BODY) return invalidRequest(null);
    const issues = checkObject(body, oauth ? OAUTH_TOKEN_FIELDS : TOKEN_FIELDS, false);
    if (issues.length > 0) return invalidRequest(issues);
    const b = body as Record<string, unknown> & {
      grant_type?: string;
      client_id?: string;
      client_secret?: string;
      state?: string;
    };
    if (oauth && b.grant_type === undefined) {
      return oauthError(400, 'invalid_request', 'The grant_type parameter is required');
    }
    if (b.grant_type !== undefined && b.grant_type !== 'client_credentials') {
      return oauth
        ? oauthError(400, 'unsupported_grant_type', 'Only client_credentials is supported')
        : seedError(400, 'Unsupported grant_type');
    }

    const auth = parseAuthorization(req.headers.authorization);
    const headerMethod = auth.kind !== 'none' && auth.kind !== 'other';
    if (oauth && b.client_secret && headerMethod) {
      return oauthError(400, 'invalid_request', 'Use only one client authentication method');
    }
    let credential: ClientCredential;
    if (b.client_secret) {
      credential = {
        method: 'client_secret_post',
        secret: restorePlus(b.client_secret),
        ...(b.client_id !== undefined ? { clientId: b.client_id } : {}),
      };
    } else if (auth.kind === 'malformed_basic') {
      return clientFailure(
        401,
        'Invalid Basic authentication format',
        'Malformed Basic credentials',
        'client_secret_basic',
      );
    } else if (auth.kind === 'basic') {
      credential = { method: 'client_secret_basic', secret: auth.secret, clientId: auth.clientId };
    } else if (auth.kind === 'bearer') {
      credential = { method: 'bearer', secret: auth.token };
    } else {
      return clientFailure(
        400,
        'Missing credentials: provide client_secret, Basic auth, or Bearer token',
        'Client authentication is required',
        null,
      );
    }

    const verified = await gate.verify(credential.secret, req.ip, true);
    if (!verified.ok && verified.throttled) {
      const retry = { 'retry-after': String(verified.retryAfterSeconds) };
      return oauth
        ? oauthThrottled(verified.retryAfterSeconds)
        : seedError(429, 'Too many requests', {}, { ...NO_STORE, ...retry });
    }
    if (!verified.ok) {
      return clientFailure(
        401,
        'Invalid Authorization token',
        'Client authentication failed',
        credential.method,
      );
    }
    const record = verified.record;
    let roles = [...(record.roles ?? [])];
    let scope: string | undefined;
    if (sv.profile === 'at+jwt') {
      if (typeof b.scope === 'string' && b.scope.trim() !== '') {
        const requested = [...new Set(b.scope.split(' ').filter((s) => s !== ''))];
        if (requested.some((s) => !roles.includes(s))) {
          return oauth
            ? oauthError(400, 'invalid_scope', 'The requested scope exceeds the granted roles')
            : seedError(400, 'Invalid scope');
        }
        roles = requested;
      }
      scope = roles.length > 0 ? roles.join(' ') : undefined;
    }
    const claims: Record<string, unknown> = {
      sub: record.tokenId,
      owner: record.owner,
      admin: record.isAdmin === true,
      roles,
    };
    if (sv.profile === 'at+jwt') {
      claims.client_id = record.tokenId;
      if (scope !== undefined) claims.scope = scope;
    }
    // A JWT never outlives its PAT: `exp` is capped at the PAT's expiry, and a PAT
    // that expires within the current second (seconds are rounded down) gets none.
    const expiresAt = typeof record.expiresAt === 'number' ? record.expiresAt : undefined;
    let accessToken: string;
    try {
      accessToken = await sv.sign(claims, expiresAt === undefined ? undefined : { expiresAt });
    } catch (err) {
      const field = (err as { field?: unknown } | null)?.field;
      if (!isTesseraError(err, 'ERR_TESSERA_INVALID_INPUT') || field !== 'expiresAt') throw err;
      logger?.warn({ reason: 'expired', tokenId: record.tokenId }, 'tessera: PAT expired');
      return clientFailure(
        401,
        'Invalid Authorization token',
        'Client authentication failed',
        credential.method,
      );
    }
    return json(
      200,
      {
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: expiresAt === undefined ? sv.ttlSeconds : lifetimeOf(accessToken),
        ...(scope !== undefined ? { scope } : {}),
        ...(b.state !== undefined ? { state: b.state } : {}),
      },
      NO_STORE,
    );
  }

  async function jwks(): Promise<HttpResponse> {
    return json(200, sv.jwks, { 'cache-control': `public, max-age=${jwksMaxAge}` });
  }

  async function metadata(req: HttpRequest): Promise<HttpResponse> {
    let base = publicUrl;
    if (base === undefined) {
      const mount = req.path.endsWith(METADATA_PATH)
        ? req.path.slice(0, -METADATA_PATH.length)
        : '';
      base = `${req.origin}${mount}`;
    }
    const methods = ['client_secret_basic', 'client_secret_post'];
    return json(
      200,
      {
        issuer: sv.issuer,
        token_endpoint: `${base}/token`,
        jwks_uri: `${base}${JWKS_PATH}`,
        introspection_endpoint: `${base}/introspect`,
        revocation_endpoint: `${base}/revoke`,
        grant_types_supported: ['client_credentials'],
        response_types_supported: [],
        token_endpoint_auth_methods_supported: methods,
        introspection_endpoint_auth_methods_supported: methods,
        revocation_endpoint_auth_methods_supported: methods,
      },
      { 'cache-control': 'public, max-age=3600' },
    );
  }

  const introspect = createIntrospect({
    sv,
    pat: options.pat,
    callerAuth,
    realm,
    access: introspectAccess(options),
  });
  const revoke = createRevoke({ sv, pat: options.pat, gate, callerAuth });

  const safe =
    (h: Handler, isOAuth: boolean): Handler =>
    async (req) => {
      try {
        return await h(req);
      } catch (err) {
        const answer = internalError(err, logger);
        if (!isOAuth) return answer;
        return oauthError(
          answer.status,
          answer.status === 503 ? 'temporarily_unavailable' : 'server_error',
          'The server could not answer',
          answer.headers,
        );
      }
    };
  return Object.freeze({
    token: safe(token, oauth),
    introspect: safe(introspect, true),
    revoke: safe(revoke, true),
    jwks: safe(jwks, false),
    metadata: safe(metadata, false),
  });
}
