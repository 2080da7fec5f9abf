/**
 * ONE table of HTTP cases, run over real HTTP against Express, Fastify and
 * Hono (`runSharedCases`). Each case is a list of steps: a request and what
 * must come back (status, headers, body). Statuses, bodies and messages are
 * the seed's (BEHAVIOUR.md §3.3–3.6), with its faults fixed, plus the OAuth
 * surface (RFC 6749, 6750, 7009, 7517, 7662, 8414, 9068) and throttling.
 */
import { describe, expect, it } from 'vitest';
import { BODY_LIMIT_BYTES } from '../../src/http/body.js';
import { type ChunkedBody, type ChunkedResult, sendChunked } from './chunked.js';
import { AUDIENCE, createFixture, type Fixture, ISSUER, MOUNTS, type Running } from './fixture.js';

/** A request of a step. */
export interface CaseRequest {
  readonly method?: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  /** Sent as `application/json`. */
  readonly json?: unknown;
  /** Sent as `application/x-www-form-urlencoded` (a string is sent as is). */
  readonly form?: Record<string, string> | string;
  /** Sent as is, with `contentType`. */
  readonly raw?: string;
  /** Sent with `Transfer-Encoding: chunked` and no `Content-Length` (as `contentType`, default JSON). */
  readonly chunked?: ChunkedBody;
  readonly contentType?: string;
  /** Send from this loopback address (e.g. `127.0.0.2`; the servers listen on 127.0.0.1). */
  readonly from?: string;
}

/** What must come back. */
export interface CaseExpect {
  readonly status: number;
  /** Exact header values (a RegExp tests the value; `null`: must be absent). */
  readonly headers?: Record<string, string | RegExp | null>;
  /** The exact JSON body (deep equality). */
  readonly body?: unknown;
  /** The JSON body must contain this. */
  readonly match?: Record<string, unknown>;
  /** The body must be empty. */
  readonly empty?: true;
  /** (chunked requests) The answer must come while the client is still sending. */
  readonly answeredWhileSending?: true;
  /** (chunked requests) Most growth of this process's heap and buffers during the request, bytes. */
  readonly maxMemoryGrowthBytes?: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked by the assertions
  readonly check?: (body: any, fx: Fixture) => void | Promise<void>;
}

export interface CaseStep {
  readonly request: (fx: Fixture) => CaseRequest;
  readonly expect: CaseExpect;
}

export interface HttpCase {
  readonly name: string;
  readonly steps: readonly CaseStep[];
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${id}:${secret}`, 'utf8').toString('base64')}`;
const bearer = (token: string) => `Bearer ${token}`;
const formEncode = (s: string) => encodeURIComponent(s);
const step = (request: CaseStep['request'], expect: CaseExpect): CaseStep => ({
  request,
  expect,
});
const one = (name: string, request: CaseStep['request'], expect: CaseExpect): HttpCase => ({
  name,
  steps: [step(request, expect)],
});

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };
const JSON_TYPE = /^application\/json/;
const T = MOUNTS;

/** A token response whose JWT carries the seed's claims for `who`. */
function tokenResponse(who: 'admin' | 'user' | 'plus', extra: Record<string, unknown> = {}) {
  return async (body: Record<string, unknown>, fx: Fixture) => {
    expect(body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 600,
      ...extra,
    });
    const { payload, protectedHeader } = await fx.sv.verify(body.access_token as string);
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'JWT', kid: 'test-key-1' });
    const expected = {
      admin: { sub: fx.adminId, owner: 'root@example.com', admin: true, roles: [] },
      user: {
        sub: fx.userId,
        owner: 'user@example.com',
        admin: false,
        roles: ['reader', 'editor'],
      },
      plus: { sub: fx.plusId, owner: 'plus@example.com', admin: false, roles: [] },
    }[who];
    expect(payload).toMatchObject({ ...expected, iss: ISSUER });
    expect((payload.exp as number) - (payload.iat as number)).toBe(600);
  };
}

const capture = (name: string) => (body: Record<string, unknown>, fx: Fixture) => {
  expect(typeof body.access_token).toBe('string');
  fx.vars[name] = body.access_token as string;
};

export const CASES: readonly HttpCase[] = [
  // --- POST /token, seed style (BEHAVIOUR.md §3.3) --------------------------
  one(
    'token: client_secret_post in JSON mints a JWT with the seed claims, never cached',
    (fx) => ({
      method: 'POST',
      path: `${T.auth}/token`,
      json: { grant_type: 'client_credentials', client_secret: fx.userPat },
    }),
    {
      status: 200,
      headers: { ...NO_STORE, 'content-type': JSON_TYPE },
      check: tokenResponse('user'),
    },
  ),
  one(
    'token: client_secret_post in a form',
    (fx) => ({
      method: 'POST',
      path: `${T.auth}/token`,
      form: { grant_type: 'client_credentials', client_secret: fx.adminPat },
    }),
    { status: 200, check: tokenResponse('admin') },
  ),
  one(
    'token: client_secret_post in a form with an unencoded + (the seed pitfall) still works',
    (fx) => ({
      method: 'POST',
      path: `${T.auth}/token`,
      form: `grant_type=client_credentials&client_secret=${fx.plusPat.replace(/[/=]/g, encodeURIComponent)}`,
    }),
    { status: 200, check: tokenResponse('plus') },
  ),
  {
    name: 'token: a PAT expiring within the JWT lifetime caps exp at its expiry (expires_in to match)',
    steps: [
      step(
        (fx) => ({
          method: 'POST',
          path: `${T.admin}/tokens`,
          headers: { authorization: bearer(fx.adminJwt) },
          json: { owner: 'soon@example.com', expiresAt: Math.floor(Date.now() / 1000) + 120 },
        }),
        {
          status: 201,
          check: (body, fx) => {
            fx.vars.expiring = body.token;
            fx.vars.expiringAt = String(body.record.expiresAt);
          },
        },
      ),
      step(
        (fx) => ({
          method: 'POST',
          path: `${T.auth}/token`,
          json: { grant_type: 'client_credentials', client_secret: fx.vars.expiring },
        }),
        {
          status: 200,
          check: async (body, fx) => {
            const { payload } = await fx.sv.verify(body.access_token);
            expect(payload.exp).toBe(Number(fx.vars.expiringAt));
            expect(body.expires_in).toBe((payload.exp as number) - (payload.iat as number));
            expect(body.expires_in).toBeGreaterThan(100);
            expect(body.expires_in).toBeLessThanOrEqual(120);
          },
        },
      ),
    ],
  },
  one(
    'token: Basic with an empty client id (the seed form ":<token>")',
    (fx) => ({
      method: 'POST',
      path: `${T.auth}/token`,
      headers: { authorization: basic('', fx.userPat) },
    }),
    { status: 200, check: tokenResponse('user') },
  ),
  one(
    'token: Basic ignores the client id, as the seed does',
    (fx) => ({
      method: 'POST',
      path: `${T.auth}/token`,
      headers: { authorization: basic('my-app', fx.userPat) },
    }),
    { status: 200, check: tokenResponse('user') },
  ),
  one(
    'token: Basic with a secret holding a raw + (unencoded seed client)',
    (fx) => ({
      method: 'POST',
      path: `${T.auth}/token`,
      headers: { authorization: basic('', fx.plusPat) },
    }),
    { status: 200, check: tokenResponse('plus') },
  ),
  one(
    'token: Basic with a form-url-encoded secret (%2B, %2F, %3D) is decoded (RFC 6749 §2.3.1)',
    (fx) => ({
      method: 'POST',
      path: `${T.auth}/token`,
      headers: { authorization: basic('', formEncode(fx.plusPat)) },
    }),
    { status: 200, check: tokenResponse('plus') },
  ),
  one(
    'token: Bearer PAT',
    (fx) => ({
      method: 'POST',
      path: `${T.auth}/token`,
      headers: { authorization: bearer(fx.userPat) },
    }),
    { status: 200, check: tokenResponse('user') },
  ),
  one(
    'token: auth schemes are case-insensitive (RFC 9110)',
    (fx) => ({
      method: 'POST',
      path: `${T.auth}/token`,
      headers: { authorization: `bearer ${fx.userPat}` },
    }),
    { status: 200, check: tokenResponse('user') },
  ),
  one(
    'token: state is echoed',
    (fx) => ({
      method: 'POST',
      path: `${T.auth}/token`,
      json: { client_secret: fx.userPat, state: 'xyz', client_id: 'ignored' },
    }),
    { status: 200, check: tokenResponse('user', { state: 'xyz' }) },
  ),
  one(
    'token: a grant_type other than client_credentials → 400 "Unsupported grant_type"',
    (fx) => ({
      method: 'POST',
      path: `${T.auth}/token`,
      json: { grant_type: 'password', client_secret: fx.userPat },
    }),
    { status: 400, body: { error: { message: 'Unsupported grant_type' } } },
  ),
  one(
    'token: a non-string field → 400 "Invalid request body" with zod details',
    (fx) => ({
      method: 'POST',
      path: `${T.auth}/token`,
      json: { client_secret: fx.userPat, state: 42 },
    }),
    {
      status: 400,
      body: {
        error: {
          message: 'Invalid request body',
          details: '✖ Invalid input: expected string, received number\n  → at state',
        },
      },
    },
  ),
  one(
    'token: malformed JSON → 400 "Invalid request body"',
    () => ({
      method: 'POST',
      path: `${T.auth}/token`,
      raw: '{"client_secret":',
      contentType: 'application/json',
    }),
    {
      status: 400,
      match: { error: { message: 'Invalid request body', details: expect.any(String) } },
    },
  ),
  one(
    'token: no credentials → 400 "Missing credentials: ..."',
    () => ({ method: 'POST', path: `${T.auth}/token`, json: {} }),
    {
      status: 400,
      body: {
        error: {
          message: 'Missing credentials: provide client_secret, Basic auth, or Bearer token',
        },
      },
    },
  ),
  one(
    'token: no body at all → 400 "Missing credentials: ..."',
    () => ({ method: 'POST', path: `${T.auth}/token` }),
    { status: 400, match: { error: { message: expect.stringMatching(/^Missing credentials/) } } },
  ),
  one(
    'token: Basic without a colon → 401 "Invalid Basic authentication format" with a Basic challenge',
    () => ({
      method: 'POST',
      path: `${T.auth}/token`,
      headers: { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` },
    }),
    {
      status: 401,
      headers: { 'www-authenticate': /^Basic realm="tessera"/ },
      body: { error: { message: 'Invalid Basic authentication format' } },
    },
  ),
  one(
    'token: a wrong secret → 401 "Invalid Authorization token" with a challenge',
    (fx) => ({
      method: 'POST',
      path: `${T.auth}/token`,
      headers: { authorization: bearer(`${fx.userPat.slice(0, -5)}AAAA=`) },
    }),
    {
      status: 401,
      headers: { 'www-authenticate': /^Bearer realm="tessera", error="invalid_token"/ },
      body: { error: { message: 'Invalid Authorization token' } },
    },
  ),
  one(
    'token: a revoked PAT → 401 "Invalid Authorization token"',
    (fx) => ({ method: 'POST', path: `${T.auth}/token`, json: { client_secret: fx.revokedPat } }),
    {
      status: 401,
      headers: { 'www-authenticate': /^Basic realm="tessera"/ },
      body: { error: { message: 'Invalid Authorization token' } },
    },
  ),
  one(
    'token: a body over 100 KiB → 413',
    (fx) => ({
      method: 'POST',
      path: `${T.auth}/token`,
      json: { client_secret: fx.userPat, state: 'x'.repeat(110_000) },
    }),
    { status: 413, body: { error: { message: 'Request body too large' } } },
  ),

  one(
    'token: a chunked body (no Content-Length) within the limit is read',
    (fx) => {
      const body = JSON.stringify({ client_secret: fx.userPat, state: 's'.repeat(50_000) });
      return {
        method: 'POST',
        path: `${T.auth}/token`,
        chunked: { pieces: [body.slice(0, 7), body.slice(7, 30_000), body.slice(30_000)] },
      };
    },
    { status: 200, check: tokenResponse('user', { state: 's'.repeat(50_000) }) },
  ),
  one(
    'token: a chunked body that never ends → 413 as soon as it passes the limit, memory bounded',
    () => ({ method: 'POST', path: `${T.auth}/token`, chunked: { floodBytes: 128 * 1024 * 1024 } }),
    {
      status: 413,
      body: { error: { message: 'Request body too large' } },
      answeredWhileSending: true,
      maxMemoryGrowthBytes: 64 * BODY_LIMIT_BYTES,
    },
  ),

  // --- POST /token, RFC 6749 style ------------------------------------------
  one(
    'oauth token: client_secret_basic with a form body mints a JWT, no-store',
    (fx) => ({
      method: 'POST',
      path: `${T.oauth}/token`,
      headers: { authorization: basic(fx.userId, formEncode(fx.userPat)) },
      form: { grant_type: 'client_credentials' },
    }),
    { status: 200, headers: NO_STORE, check: tokenResponse('user') },
  ),
  one(
    'oauth token: client_secret_post with a form body',
    (fx) => ({
      method: 'POST',
      path: `${T.oauth}/token`,
      form: { grant_type: 'client_credentials', client_id: fx.plusId, client_secret: fx.plusPat },
    }),
    { status: 200, check: tokenResponse('plus') },
  ),
  one(
    'oauth token: a missing grant_type → 400 invalid_request, no-store',
    (fx) => ({ method: 'POST', path: `${T.oauth}/token`, form: { client_secret: fx.userPat } }),
    {
      status: 400,
      headers: NO_STORE,
      body: { error: 'invalid_request', error_description: expect.any(String) },
    },
  ),
  one(
    'oauth token: another grant → 400 unsupported_grant_type',
    (fx) => ({
      method: 'POST',
      path: `${T.oauth}/token`,
      form: { grant_type: 'authorization_code', client_secret: fx.userPat },
    }),
    {
      status: 400,
      headers: NO_STORE,
      body: { error: 'unsupported_grant_type', error_description: expect.any(String) },
    },
  ),
  one(
    'oauth token: a wrong Basic secret → 401 invalid_client with a Basic challenge',
    (fx) => ({
      method: 'POST',
      path: `${T.oauth}/token`,
      headers: { authorization: basic(fx.userId, 'pat_nope.nope') },
      form: { grant_type: 'client_credentials' },
    }),
    {
      status: 401,
      headers: { ...NO_STORE, 'www-authenticate': /^Basic realm="tessera"/ },
      body: { error: 'invalid_client', error_description: expect.any(String) },
    },
  ),
  one(
    'oauth token: no client authentication → 401 invalid_client',
    () => ({
      method: 'POST',
      path: `${T.oauth}/token`,
      form: { grant_type: 'client_credentials' },
    }),
    {
      status: 401,
      headers: { 'www-authenticate': /^Basic / },
      body: { error: 'invalid_client', error_description: expect.any(String) },
    },
  ),
  one(
    'oauth token: two client authentication methods → 400 invalid_request',
    (fx) => ({
      method: 'POST',
      path: `${T.oauth}/token`,
      headers: { authorization: basic('', fx.userPat) },
      form: { grant_type: 'client_credentials', client_secret: fx.userPat },
    }),
    { status: 400, match: { error: 'invalid_request' } },
  ),
  one(
    'oauth token: a repeated parameter → 400 invalid_request',
    (fx) => ({
      method: 'POST',
      path: `${T.oauth}/token`,
      form: `grant_type=client_credentials&grant_type=client_credentials&client_secret=${formEncode(fx.userPat)}`,
    }),
    { status: 400, match: { error: 'invalid_request' } },
  ),

  // --- throttling -----------------------------------------------------------
  {
    name: 'throttle: wrong secrets spend the budget of (token id, source); that source then gets 429 even with the right secret, the owner elsewhere still exchanges',
    steps: [
      ...['AAAA=', 'BBBB='].map((tail) =>
        step(
          (fx) => ({
            method: 'POST',
            path: `${T.tight}/token`,
            json: { client_secret: `${fx.userPat.slice(0, -5)}${tail}` },
          }),
          { status: 401 },
        ),
      ),
      step(
        (fx) => ({ method: 'POST', path: `${T.tight}/token`, json: { client_secret: fx.userPat } }),
        {
          status: 429,
          headers: { ...NO_STORE, 'retry-after': /^[1-9]\d*$/ },
          body: { error: { message: 'Too many requests' } },
        },
      ),
      ...[0, 1].map(() =>
        step(
          (fx) => ({
            method: 'POST',
            path: `${T.tight}/token`,
            json: { client_secret: fx.userPat },
            from: '127.0.0.2',
          }),
          { status: 200, check: tokenResponse('user') },
        ),
      ),
      step(
        (fx) => ({
          method: 'POST',
          path: `${T.tight}/token`,
          json: { client_secret: `${fx.userPat.slice(0, -5)}CCCC=` },
          from: '127.0.0.2',
        }),
        { status: 401 },
      ),
    ],
  },
  {
    name: 'throttle: attempts per IP are capped (oauth style: 429 invalid_request, Retry-After)',
    steps: [
      ...[0, 1, 2].map(() =>
        step(
          (fx) => ({
            method: 'POST',
            path: `${T.tightOauth}/token`,
            form: { grant_type: 'client_credentials', client_secret: fx.userPat },
          }),
          { status: 200 },
        ),
      ),
      step(
        (fx) => ({
          method: 'POST',
          path: `${T.tightOauth}/token`,
          form: { grant_type: 'client_credentials', client_secret: fx.userPat },
        }),
        {
          status: 429,
          headers: { ...NO_STORE, 'retry-after': /^[1-9]\d*$/ },
          body: { error: 'invalid_request', error_description: expect.any(String) },
        },
      ),
    ],
  },

  // --- JWKS and metadata ----------------------------------------------------
  one(
    'jwks: GET /.well-known/jwks.json serves the public keys only (RFC 7517)',
    () => ({ path: `${T.auth}/.well-known/jwks.json` }),
    {
      status: 200,
      headers: { 'cache-control': 'public, max-age=300', 'content-type': JSON_TYPE },
      check: (body, fx) => {
        expect(body).toEqual(JSON.parse(JSON.stringify(fx.sv.jwks)));
        expect(body.keys).toHaveLength(1);
        expect(body.keys[0]).toMatchObject({
          kty: 'OKP',
          crv: 'Ed25519',
          kid: 'test-key-1',
          alg: 'EdDSA',
          use: 'sig',
        });
        expect(body.keys[0].d).toBeUndefined();
      },
    },
  ),
  one(
    'metadata: RFC 8414 document with absolute endpoint URLs',
    () => ({ path: `${T.oauth}/.well-known/oauth-authorization-server` }),
    {
      status: 200,
      check: (body) => {
        expect(body).toMatchObject({
          issuer: ISSUER,
          token_endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/oauth\/token$/),
          jwks_uri: expect.stringMatching(/\/oauth\/\.well-known\/jwks\.json$/),
          introspection_endpoint: expect.stringMatching(/\/oauth\/introspect$/),
          revocation_endpoint: expect.stringMatching(/\/oauth\/revoke$/),
          grant_types_supported: ['client_credentials'],
          token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        });
      },
    },
  ),

  // --- middleware (BEHAVIOUR.md §3.5) + RFC 6750 ----------------------------
  one(
    'requireJwt: no Authorization → 401 with a bare Bearer challenge',
    () => ({ path: '/api/data' }),
    {
      status: 401,
      headers: { 'www-authenticate': 'Bearer realm="tessera"' },
      body: { error: { message: 'Missing or invalid Authorization header' } },
    },
  ),
  one(
    'requireJwt: a non-Bearer scheme → 401 "Missing or invalid Authorization header"',
    (fx) => ({ path: '/api/data', headers: { authorization: basic('', fx.userPat) } }),
    { status: 401, body: { error: { message: 'Missing or invalid Authorization header' } } },
  ),
  one(
    'requireJwt: garbage → 401 "Invalid JWT" with the jose code and error="invalid_token"',
    () => ({ path: '/api/data', headers: { authorization: bearer('not-a-jwt') } }),
    {
      status: 401,
      headers: { 'www-authenticate': /^Bearer realm="tessera", error="invalid_token"/ },
      body: { error: { message: 'Invalid JWT', code: 'ERR_JWS_INVALID' } },
    },
  ),
  one(
    'requireJwt: an expired JWT → 401 with ERR_JWT_EXPIRED',
    () => ({ path: '/api/data', headers: { authorization: bearer('EXPIRED') } }),
    { status: 401, body: { error: { message: 'Invalid JWT', code: 'ERR_JWT_EXPIRED' } } },
  ),
  one(
    'requireJwt: a JWT whose claims have the wrong types → 401',
    () => ({ path: '/api/data', headers: { authorization: bearer('BADCLAIMS') } }),
    {
      status: 401,
      body: { error: { message: 'Invalid JWT', code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' } },
    },
  ),
  one(
    'requireJwt: a valid JWT → the route sees user = { sub, owner, admin, roles }',
    (fx) => ({ path: '/api/data', headers: { authorization: bearer(fx.userJwt) } }),
    {
      status: 200,
      check: (body, fx) =>
        expect(body).toEqual({
          user: {
            sub: fx.userId,
            owner: 'user@example.com',
            admin: false,
            roles: ['reader', 'editor'],
          },
        }),
    },
  ),
  one(
    'requireAdmin: a non-admin → 403 "Admin access required" with insufficient_scope',
    (fx) => ({ path: '/api/admin', headers: { authorization: bearer(fx.userJwt) } }),
    {
      status: 403,
      headers: { 'www-authenticate': /error="insufficient_scope"/ },
      body: { error: { message: 'Admin access required' } },
    },
  ),
  one(
    'requireAdmin: an admin passes',
    (fx) => ({ path: '/api/admin', headers: { authorization: bearer(fx.adminJwt) } }),
    { status: 200, match: { user: { admin: true, owner: 'root@example.com' } } },
  ),
  one(
    'requireRole: the role holder passes',
    (fx) => ({
      method: 'PUT',
      path: '/api/content',
      headers: { authorization: bearer(fx.userJwt) },
    }),
    { status: 200, match: { user: { roles: ['reader', 'editor'] } } },
  ),
  one(
    'requireRole: without the role → 403 "Access denied" with scope="editor"',
    (fx) => ({
      method: 'PUT',
      path: '/api/content',
      headers: { authorization: bearer(fx.adminJwt) },
    }),
    {
      status: 403,
      headers: { 'www-authenticate': /error="insufficient_scope".*scope="editor"/ },
      body: { error: { message: 'Access denied' } },
    },
  ),
  {
    name: 'token → requireJwt: a minted JWT opens the protected route',
    steps: [
      step(
        (fx) => ({ method: 'POST', path: `${T.auth}/token`, json: { client_secret: fx.userPat } }),
        {
          status: 200,
          check: capture('jwt'),
        },
      ),
      step(
        (fx) => ({ path: '/api/data', headers: { authorization: bearer(fx.vars.jwt as string) } }),
        {
          status: 200,
          match: { user: { owner: 'user@example.com' } },
        },
      ),
    ],
  },

  // --- introspection (RFC 7662) ---------------------------------------------
  one(
    'introspect: an admin sees an active JWT with its claims, no-store',
    (fx) => ({
      method: 'POST',
      path: `${T.oauth}/introspect`,
      headers: { authorization: bearer(fx.adminJwt) },
      form: { token: fx.userJwt },
    }),
    {
      status: 200,
      headers: NO_STORE,
      check: (body, fx) =>
        expect(body).toMatchObject({
          active: true,
          token_type: 'Bearer',
          sub: fx.userId,
          client_id: fx.userId,
          username: 'user@example.com',
          iss: ISSUER,
          exp: expect.any(Number),
          iat: expect.any(Number),
          jti: expect.any(String),
          admin: false,
          roles: ['reader', 'editor'],
        }),
    },
  ),
  one(
    'introspect: a PAT, authenticated with client_secret_basic',
    (fx) => ({
      method: 'POST',
      path: `${T.oauth}/introspect`,
      headers: { authorization: basic(fx.adminId, formEncode(fx.adminPat)) },
      form: { token: fx.userPat, token_type_hint: 'access_token' },
    }),
    {
      status: 200,
      check: (body, fx) =>
        expect(body).toMatchObject({
          active: true,
          sub: fx.userId,
          client_id: fx.userId,
          username: 'user@example.com',
          roles: ['reader', 'editor'],
        }),
    },
  ),
  one(
    'introspect: an unknown token → { active: false } only',
    (fx) => ({
      method: 'POST',
      path: `${T.oauth}/introspect`,
      headers: { authorization: bearer(fx.adminJwt) },
      form: { token: 'eyJhbGciOiJub25lIn0.e30.' },
    }),
    { status: 200, headers: NO_STORE, body: { active: false } },
  ),
  one(
    'introspect: a revoked PAT → { active: false }',
    (fx) => ({
      method: 'POST',
      path: `${T.oauth}/introspect`,
      headers: { authorization: bearer(fx.adminJwt) },
      json: { token: fx.revokedPat },
    }),
    { status: 200, body: { active: false } },
  ),
  one(
    'introspect: no caller authentication → 401 invalid_client',
    (fx) => ({ method: 'POST', path: `${T.oauth}/introspect`, form: { token: fx.userJwt } }),
    {
      status: 401,
      headers: { 'www-authenticate': /^Basic / },
      body: { error: 'invalid_client', error_description: expect.any(String) },
    },
  ),
  one(
    'introspect: a caller without the right → 403 insufficient_scope',
    (fx) => ({
      method: 'POST',
      path: `${T.oauth}/introspect`,
      headers: { authorization: bearer(fx.userJwt) },
      form: { token: fx.userJwt },
    }),
    {
      status: 403,
      headers: { 'www-authenticate': /error="insufficient_scope"/ },
      match: { error: 'insufficient_scope' },
    },
  ),
  one(
    'introspect: no token parameter → 400 invalid_request',
    (fx) => ({
      method: 'POST',
      path: `${T.oauth}/introspect`,
      headers: { authorization: bearer(fx.adminJwt) },
      form: {},
    }),
    { status: 400, match: { error: 'invalid_request' } },
  ),

  // --- revocation (RFC 7009) ------------------------------------------------
  {
    name: 'revoke: a client revokes its minted JWT; the JWT then fails requireJwt and introspection',
    steps: [
      step(
        (fx) => ({ method: 'POST', path: `${T.auth}/token`, json: { client_secret: fx.userPat } }),
        {
          status: 200,
          check: capture('jwt'),
        },
      ),
      step(
        (fx) => ({
          method: 'POST',
          path: `${T.oauth}/revoke`,
          headers: { authorization: basic(fx.userId, formEncode(fx.userPat)) },
          form: { token: fx.vars.jwt as string, token_type_hint: 'access_token' },
        }),
        { status: 200, headers: NO_STORE, empty: true },
      ),
      step(
        (fx) => ({ path: '/api/data', headers: { authorization: bearer(fx.vars.jwt as string) } }),
        {
          status: 401,
          headers: { 'www-authenticate': /error="invalid_token"/ },
          body: { error: { message: 'Invalid JWT', code: 'ERR_TESSERA_REVOKED' } },
        },
      ),
      step(
        (fx) => ({
          method: 'POST',
          path: `${T.oauth}/introspect`,
          headers: { authorization: bearer(fx.adminJwt) },
          form: { token: fx.vars.jwt as string },
        }),
        { status: 200, body: { active: false } },
      ),
      step((fx) => ({ path: '/api/data', headers: { authorization: bearer(fx.userJwt) } }), {
        status: 200,
      }),
    ],
  },
  {
    name: 'revoke: a client revokes its PAT; exchange fails and its outstanding JWTs are denied',
    steps: [
      step(
        (fx) => ({
          method: 'POST',
          path: `${T.oauth}/revoke`,
          form: { token: fx.userPat, client_secret: fx.userPat },
        }),
        { status: 200, empty: true },
      ),
      step(
        (fx) => ({ method: 'POST', path: `${T.auth}/token`, json: { client_secret: fx.userPat } }),
        {
          status: 401,
          body: { error: { message: 'Invalid Authorization token' } },
        },
      ),
      step((fx) => ({ path: '/api/data', headers: { authorization: bearer(fx.userJwt) } }), {
        status: 401,
        body: { error: { message: 'Invalid JWT', code: 'ERR_TESSERA_REVOKED' } },
      }),
    ],
  },
  one(
    'revoke: an invalid token still answers 200',
    (fx) => ({
      method: 'POST',
      path: `${T.oauth}/revoke`,
      headers: { authorization: bearer(fx.adminJwt) },
      form: { token: 'pat_doesnotexist' },
    }),
    { status: 200, empty: true },
  ),
  one(
    "revoke: another client's token → 400 unauthorized_client",
    (fx) => ({
      method: 'POST',
      path: `${T.oauth}/revoke`,
      headers: { authorization: basic('', fx.plusPat) },
      form: { token: fx.userJwt },
    }),
    { status: 400, match: { error: 'unauthorized_client' } },
  ),
  {
    name: "revoke: an admin revokes a user's PAT",
    steps: [
      step(
        (fx) => ({
          method: 'POST',
          path: `${T.oauth}/revoke`,
          headers: { authorization: bearer(fx.adminJwt) },
          form: { token: fx.userPat },
        }),
        { status: 200, empty: true },
      ),
      step(
        (fx) => ({ method: 'POST', path: `${T.auth}/token`, json: { client_secret: fx.userPat } }),
        {
          status: 401,
        },
      ),
    ],
  },
  one(
    'revoke: no caller authentication → 401 invalid_client',
    (fx) => ({ method: 'POST', path: `${T.oauth}/revoke`, form: { token: fx.userJwt } }),
    { status: 401, match: { error: 'invalid_client' } },
  ),

  // --- RFC 9068 at+jwt ------------------------------------------------------
  one(
    'at+jwt: the profile mints typ at+jwt with aud, client_id and the granted scope',
    (fx) => ({
      method: 'POST',
      path: `${T.at}/token`,
      form: { grant_type: 'client_credentials', client_secret: fx.userPat, scope: 'reader' },
    }),
    {
      status: 200,
      check: async (body, fx) => {
        expect(body).toEqual({
          access_token: expect.any(String),
          token_type: 'Bearer',
          expires_in: 600,
          scope: 'reader',
        });
        const { payload, protectedHeader } = await fx.atSv.verify(body.access_token);
        expect(protectedHeader.typ).toBe('at+jwt');
        expect(payload).toMatchObject({
          aud: AUDIENCE,
          sub: fx.userId,
          client_id: fx.userId,
          scope: 'reader',
          roles: ['reader'],
        });
      },
    },
  ),
  one(
    'at+jwt: a scope beyond the roles → 400 invalid_scope',
    (fx) => ({
      method: 'POST',
      path: `${T.at}/token`,
      form: { grant_type: 'client_credentials', client_secret: fx.userPat, scope: 'reader admin' },
    }),
    { status: 400, match: { error: 'invalid_scope' } },
  ),

  // --- admin router (BEHAVIOUR.md §3.6) -------------------------------------
  one('admin: no JWT → 401', () => ({ path: `${T.admin}/tokens` }), {
    status: 401,
    body: { error: { message: 'Missing or invalid Authorization header' } },
  }),
  one(
    'admin: a non-admin JWT → 403 "Admin access required"',
    (fx) => ({ path: `${T.admin}/tokens`, headers: { authorization: bearer(fx.userJwt) } }),
    { status: 403, body: { error: { message: 'Admin access required' } } },
  ),
  one(
    'admin list: live tokens, no hashes, revoked ones left out',
    (fx) => ({ path: `${T.admin}/tokens`, headers: { authorization: bearer(fx.adminJwt) } }),
    {
      status: 200,
      check: (body, fx) => {
        const ids = body.records.map((r: { tokenId: string }) => r.tokenId).sort();
        expect(ids).toEqual([fx.adminId, fx.userId, fx.plusId].sort());
        for (const r of body.records) expect(r.secretPhc).toBeUndefined();
      },
    },
  ),
  one(
    'admin list: includeRevoked=true, includeSecretPhc=1',
    (fx) => ({
      path: `${T.admin}/tokens?includeRevoked=true&includeSecretPhc=1`,
      headers: { authorization: bearer(fx.adminJwt) },
    }),
    {
      status: 200,
      check: (body, fx) => {
        expect(body.records).toHaveLength(4);
        const revoked = body.records.find((r: { tokenId: string }) => r.tokenId === fx.revokedId);
        expect(revoked.revokedAt).toEqual(expect.any(Number));
        for (const r of body.records) expect(r.secretPhc).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$/);
      },
    },
  ),
  one(
    'admin list: limit=1 and afterTokenId page through',
    (fx) => ({
      path: `${T.admin}/tokens?limit=1&afterTokenId=${[fx.adminId, fx.userId, fx.plusId].sort()[0]}`,
      headers: { authorization: bearer(fx.adminJwt) },
    }),
    {
      status: 200,
      check: (body, fx) => {
        expect(body.records.map((r: { tokenId: string }) => r.tokenId)).toEqual([
          [fx.adminId, fx.userId, fx.plusId].sort()[1],
        ]);
      },
    },
  ),
  one(
    'admin list: limit given twice → 400 with the zod details',
    (fx) => ({
      path: `${T.admin}/tokens?limit=1&limit=2`,
      headers: { authorization: bearer(fx.adminJwt) },
    }),
    {
      status: 400,
      body: {
        error: {
          message: 'Invalid query parameters',
          details: '✖ Invalid input: expected string, received array\n  → at limit',
        },
      },
    },
  ),
  one(
    'admin list: limit=0 → 400 "Limit must be a positive integer"',
    (fx) => ({
      path: `${T.admin}/tokens?limit=0`,
      headers: { authorization: bearer(fx.adminJwt) },
    }),
    {
      status: 400,
      body: {
        error: {
          message: 'Invalid query parameters',
          details: '✖ Limit must be a positive integer\n  → at limit',
        },
      },
    },
  ),
  one(
    'admin list: hasRole filters',
    (fx) => ({
      path: `${T.admin}/tokens?hasRole=editor`,
      headers: { authorization: bearer(fx.adminJwt) },
    }),
    {
      status: 200,
      check: (body, fx) =>
        expect(body.records.map((r: { tokenId: string }) => r.tokenId)).toEqual([fx.userId]),
    },
  ),
  {
    name: 'admin issue: 201 { token, record }, no-store; the token then exchanges',
    steps: [
      step(
        (fx) => ({
          method: 'POST',
          path: `${T.admin}/tokens`,
          headers: { authorization: bearer(fx.adminJwt) },
          json: { owner: 'bob@example.com', roles: ['reader'] },
        }),
        {
          status: 201,
          headers: NO_STORE,
          check: (body, fx) => {
            expect(body).toEqual({
              token: expect.stringMatching(/^pat_[0-9A-Za-z]{21}\.[A-Za-z0-9+/]{43}=$/),
              record: expect.objectContaining({
                tokenId: expect.stringMatching(/^[0-9A-Za-z]{21}$/),
                owner: 'bob@example.com',
                isAdmin: false,
                roles: ['reader'],
                createdAt: expect.any(Number),
              }),
            });
            expect(body.record.secretPhc).toBeUndefined();
            fx.vars.bob = body.token;
          },
        },
      ),
      step(
        (fx) => ({ method: 'POST', path: `${T.auth}/token`, json: { client_secret: fx.vars.bob } }),
        {
          status: 200,
        },
      ),
    ],
  },
  one(
    'admin issue: no owner → 400 with details',
    (fx) => ({
      method: 'POST',
      path: `${T.admin}/tokens`,
      headers: { authorization: bearer(fx.adminJwt) },
      json: {},
    }),
    {
      status: 400,
      body: {
        error: {
          message: 'Invalid request body',
          details: '✖ Invalid input: expected string, received undefined\n  → at owner',
        },
      },
    },
  ),
  one(
    'admin issue: an unknown field → 400 Unrecognized key (strict)',
    (fx) => ({
      method: 'POST',
      path: `${T.admin}/tokens`,
      headers: { authorization: bearer(fx.adminJwt) },
      json: { owner: 'x', extra: 1 },
    }),
    {
      status: 400,
      body: { error: { message: 'Invalid request body', details: '✖ Unrecognized key: "extra"' } },
    },
  ),
  one(
    'admin issue: 51 roles → 400',
    (fx) => ({
      method: 'POST',
      path: `${T.admin}/tokens`,
      headers: { authorization: bearer(fx.adminJwt) },
      json: { owner: 'x', roles: Array.from({ length: 51 }, (_, i) => `r${i}`) },
    }),
    {
      status: 400,
      body: {
        error: {
          message: 'Invalid request body',
          details: '✖ Too big: expected array to have <=50 items\n  → at roles',
        },
      },
    },
  ),
  one(
    'admin issue: a taken token id → 409 (the seed answered 500)',
    (fx) => ({
      method: 'POST',
      path: `${T.admin}/tokens`,
      headers: { authorization: bearer(fx.adminJwt) },
      json: { owner: 'x', tokenId: fx.userId },
    }),
    { status: 409, body: { error: { message: 'Token ID already exists' } } },
  ),
  one(
    'admin batch: { found, notFound }',
    (fx) => ({
      method: 'POST',
      path: `${T.admin}/tokens/batch`,
      headers: { authorization: bearer(fx.adminJwt) },
      json: { tokenIds: [fx.userId, 'AAAAAAAAAAAAAAAAAAAAA'] },
    }),
    {
      status: 200,
      check: (body, fx) => {
        expect(body.found.map((r: { tokenId: string }) => r.tokenId)).toEqual([fx.userId]);
        expect(body.notFound).toEqual(['AAAAAAAAAAAAAAAAAAAAA']);
      },
    },
  ),
  one(
    'admin batch: a non-array → 400',
    (fx) => ({
      method: 'POST',
      path: `${T.admin}/tokens/batch`,
      headers: { authorization: bearer(fx.adminJwt) },
      json: { tokenIds: 'x' },
    }),
    {
      status: 400,
      body: {
        error: {
          message: 'Invalid request body',
          details: '✖ Invalid input: expected array, received string\n  → at tokenIds',
        },
      },
    },
  ),
  {
    name: 'admin register: PUT /tokens/:tokenId stores a generated token, which then exchanges',
    steps: [
      step(
        (fx) => ({
          method: 'PUT',
          path: `${T.admin}/tokens/${fx.vars.genId}`,
          headers: { authorization: bearer(fx.adminJwt) },
          json: { secretPhc: fx.vars.genPhc, owner: 'gen@example.com', roles: ['r'] },
        }),
        {
          status: 200,
          check: (body, fx) =>
            expect(body.record).toMatchObject({
              tokenId: fx.vars.genId,
              owner: 'gen@example.com',
              secretPhc: fx.vars.genPhc,
            }),
        },
      ),
      step(
        (fx) => ({ method: 'POST', path: `${T.auth}/token`, json: { client_secret: fx.vars.gen } }),
        {
          status: 200,
        },
      ),
    ],
  },
  {
    name: 'admin update: PATCH roles { add } → 204, visible in the list',
    steps: [
      step(
        (fx) => ({
          method: 'PATCH',
          path: `${T.admin}/tokens/${fx.userId}`,
          headers: { authorization: bearer(fx.adminJwt) },
          json: { roles: { add: ['writer'] }, expiresAt: null },
        }),
        { status: 204, empty: true },
      ),
      step(
        (fx) => ({
          path: `${T.admin}/tokens?hasRole=writer`,
          headers: { authorization: bearer(fx.adminJwt) },
        }),
        {
          status: 200,
          check: (body, fx) =>
            expect(body.records.map((r: { tokenId: string }) => r.tokenId)).toEqual([fx.userId]),
        },
      ),
    ],
  },
  // An update that takes something away denies the JWTs minted before it (the rule of
  // the service's /v1 routes); one that only adds keeps them.
  ...(
    [
      ['isAdmin: false', () => ({ isAdmin: false })],
      ['a roles replacement', () => ({ roles: ['reader'] })],
      ['a roles removal', () => ({ roles: { remove: ['editor'] } })],
      ['a new owner', () => ({ owner: 'someone-else@example.com' })],
      ['a new secret', (fx: Fixture) => ({ secretPhc: fx.vars.genPhc })],
      [
        'an expiry within the JWT lifetime',
        () => ({ expiresAt: Math.floor(Date.now() / 1000) + 60 }),
      ],
    ] as const
  ).map(
    ([what, update]): HttpCase => ({
      name: `admin update: ${what} → 204, and the JWTs minted before are denied`,
      steps: [
        step((fx) => ({ path: '/api/data', headers: { authorization: bearer(fx.userJwt) } }), {
          status: 200,
        }),
        step(
          (fx) => ({
            method: 'PATCH',
            path: `${T.admin}/tokens/${fx.userId}`,
            headers: { authorization: bearer(fx.adminJwt) },
            json: update(fx),
          }),
          { status: 204, empty: true },
        ),
        step((fx) => ({ path: '/api/data', headers: { authorization: bearer(fx.userJwt) } }), {
          status: 401,
          body: { error: { message: 'Invalid JWT', code: 'ERR_TESSERA_REVOKED' } },
        }),
      ],
    }),
  ),
  {
    name: 'admin update: adding roles, isAdmin: true, no expiry or a later one keep the minted JWTs',
    steps: [
      ...[
        { roles: { add: ['writer'] } },
        { isAdmin: true },
        { expiresAt: null },
        { expiresAt: Math.floor(Date.now() / 1000) + 7200 },
      ].map((json) =>
        step(
          (fx) => ({
            method: 'PATCH',
            path: `${T.admin}/tokens/${fx.userId}`,
            headers: { authorization: bearer(fx.adminJwt) },
            json,
          }),
          { status: 204, empty: true },
        ),
      ),
      step((fx) => ({ path: '/api/data', headers: { authorization: bearer(fx.userJwt) } }), {
        status: 200,
      }),
    ],
  },
  one(
    'admin update: add and remove together → 400 "Invalid input" at roles',
    (fx) => ({
      method: 'PATCH',
      path: `${T.admin}/tokens/${fx.userId}`,
      headers: { authorization: bearer(fx.adminJwt) },
      json: { roles: { add: ['a'], remove: ['b'] } },
    }),
    {
      status: 400,
      body: {
        error: { message: 'Invalid request body', details: '✖ Invalid input\n  → at roles' },
      },
    },
  ),
  one(
    'admin update: an unknown id → 404 (the seed answered 500)',
    (fx) => ({
      method: 'PATCH',
      path: `${T.admin}/tokens/AAAAAAAAAAAAAAAAAAAAA`,
      headers: { authorization: bearer(fx.adminJwt) },
      json: { owner: 'x' },
    }),
    { status: 404, body: { error: { message: 'Token not found' } } },
  ),
  {
    name: 'admin revoke: no body → 204 on every framework; exchange and outstanding JWTs then fail',
    steps: [
      step(
        (fx) => ({
          method: 'PUT',
          path: `${T.admin}/tokens/${fx.userId}/revoke`,
          headers: { authorization: bearer(fx.adminJwt) },
        }),
        { status: 204, empty: true },
      ),
      step(
        (fx) => ({ method: 'POST', path: `${T.auth}/token`, json: { client_secret: fx.userPat } }),
        {
          status: 401,
        },
      ),
      step((fx) => ({ path: '/api/data', headers: { authorization: bearer(fx.userJwt) } }), {
        status: 401,
        body: { error: { message: 'Invalid JWT', code: 'ERR_TESSERA_REVOKED' } },
      }),
    ],
  },
  one(
    'admin revoke: with { expiresAt } → 204',
    (fx) => ({
      method: 'PUT',
      path: `${T.admin}/tokens/${fx.userId}/revoke`,
      headers: { authorization: bearer(fx.adminJwt) },
      json: { expiresAt: Math.floor(Date.now() / 1000) + 3600 },
    }),
    { status: 204 },
  ),
  one(
    'admin revoke: a bad expiresAt → 400',
    (fx) => ({
      method: 'PUT',
      path: `${T.admin}/tokens/${fx.userId}/revoke`,
      headers: { authorization: bearer(fx.adminJwt) },
      json: { expiresAt: 'soon' },
    }),
    {
      status: 400,
      body: {
        error: {
          message: 'Invalid request body',
          details: '✖ Invalid input: expected number, received string\n  → at expiresAt',
        },
      },
    },
  ),
  one(
    'admin revoke: an unknown id → 404',
    (fx) => ({
      method: 'PUT',
      path: `${T.admin}/tokens/AAAAAAAAAAAAAAAAAAAAA/revoke`,
      headers: { authorization: bearer(fx.adminJwt) },
    }),
    { status: 404, body: { error: { message: 'Token not found' } } },
  ),
  {
    name: 'admin restore: 204, and the token exchanges again',
    steps: [
      step(
        (fx) => ({
          method: 'PUT',
          path: `${T.admin}/tokens/${fx.revokedId}/restore`,
          headers: { authorization: bearer(fx.adminJwt) },
        }),
        { status: 204, empty: true },
      ),
      step(
        (fx) => ({
          method: 'POST',
          path: `${T.auth}/token`,
          json: { client_secret: fx.revokedPat },
        }),
        {
          status: 200,
        },
      ),
    ],
  },
  one(
    'admin restore: an unknown id → 404',
    (fx) => ({
      method: 'PUT',
      path: `${T.admin}/tokens/AAAAAAAAAAAAAAAAAAAAA/restore`,
      headers: { authorization: bearer(fx.adminJwt) },
    }),
    { status: 404, body: { error: { message: 'Token not found' } } },
  ),
];

/** Placeholders some requests use, resolved against the fixture before sending. */
async function resolvePlaceholders(fx: Fixture, req: CaseRequest): Promise<CaseRequest> {
  const auth = req.headers?.authorization;
  if (auth === 'Bearer EXPIRED') {
    const jwt = await fx.expiredSv.sign({ sub: fx.userId, owner: 'u', admin: false, roles: [] });
    return { ...req, headers: { ...req.headers, authorization: bearer(jwt) } };
  }
  if (auth === 'Bearer BADCLAIMS') {
    const jwt = await fx.sv.sign({ sub: fx.userId, owner: 'u', admin: 'yes', roles: 'all' });
    return { ...req, headers: { ...req.headers, authorization: bearer(jwt) } };
  }
  return req;
}

async function send(
  base: string,
  req: CaseRequest,
): Promise<{ response: Response; chunked?: ChunkedResult }> {
  const headers: Record<string, string> = { ...(req.headers ?? {}) };
  if (req.chunked !== undefined || req.from !== undefined) {
    let body: ChunkedBody | undefined = req.chunked;
    if (body !== undefined) headers['content-type'] = req.contentType ?? 'application/json';
    else if (req.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = { whole: JSON.stringify(req.json) };
    } else if (req.form !== undefined || req.raw !== undefined) {
      throw new Error('from: only with json or chunked bodies');
    }
    const chunked = await sendChunked(
      `${base}${req.path}`,
      req.method ?? 'POST',
      headers,
      body ?? { whole: '' },
      req.from,
    );
    return { response: chunked.response, chunked };
  }
  let body: string | undefined;
  if (req.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(req.json);
  } else if (req.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = typeof req.form === 'string' ? req.form : new URLSearchParams(req.form).toString();
  } else if (req.raw !== undefined) {
    if (req.contentType) headers['content-type'] = req.contentType;
    body = req.raw;
  }
  return {
    response: await fetch(`${base}${req.path}`, { method: req.method ?? 'GET', headers, body }),
  };
}

async function check(
  sent: { response: Response; chunked?: ChunkedResult },
  want: CaseExpect,
  fx: Fixture,
): Promise<void> {
  const res = sent.response;
  const text = await res.text();
  expect(res.status, text.slice(0, 500)).toBe(want.status);
  for (const [name, value] of Object.entries(want.headers ?? {})) {
    const got = res.headers.get(name);
    if (value === null) expect(got, name).toBeNull();
    else if (value instanceof RegExp) expect(got, name).toMatch(value);
    else expect(got, name).toBe(value);
  }
  if (want.empty) expect(text).toBe('');
  const parsed = text === '' ? undefined : JSON.parse(text);
  if (want.body !== undefined) expect(parsed).toEqual(want.body);
  if (want.match !== undefined) expect(parsed).toMatchObject(want.match);
  if (want.answeredWhileSending) {
    expect(sent.chunked, 'a chunked request').toBeDefined();
    expect(
      sent.chunked?.answeredWhileSending,
      `answered after ${sent.chunked?.sentBytes} bytes`,
    ).toBe(true);
  }
  if (want.maxMemoryGrowthBytes !== undefined) {
    expect(sent.chunked?.memoryGrowthBytes).toBeLessThan(want.maxMemoryGrowthBytes);
  }
  if (want.check) await want.check(parsed, fx);
}

/**
 * Define one test per case for a framework.
 * @param framework - the describe label
 * @param start - builds that framework's app from the fixture and listens on 127.0.0.1:0
 */
export function runSharedCases(framework: string, start: (fx: Fixture) => Promise<Running>): void {
  describe(`${framework}: the shared HTTP cases`, () => {
    for (const c of CASES) {
      it(c.name, async () => {
        const fx = await createFixture();
        const gen = await fx.pat.generate();
        fx.vars.gen = gen.token;
        fx.vars.genId = gen.tokenId;
        fx.vars.genPhc = gen.secretPhc;
        const server = await start(fx);
        try {
          for (const s of c.steps) {
            const req = await resolvePlaceholders(fx, s.request(fx));
            await check(await send(server.url, req), s.expect, fx);
          }
        } finally {
          await server.close();
        }
      });
    }
  });
}
