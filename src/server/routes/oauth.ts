/**
 * The seed's routes and the OAuth surface, served by the framework-neutral
 * handlers of `tessera/http`: `POST /auth/token` (PAT → JWT), introspection
 * (RFC 7662), revocation (RFC 7009), the JWKS (RFC 7517) and the
 * authorization-server metadata (RFC 8414) under `/auth` and at the root
 * `/.well-known/…`, and `/admin/tokens` (the seed's admin API, admin JWT).
 *
 * These keep their standard or seed error bodies (drop-in compatibility), so
 * they are documented with those schemas; every success body still passes its
 * response schema, which names no hash (`secretPhc` is dropped even where the
 * seed would return it).
 * @module
 */
import type { OpenAPIHono, RouteConfig } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AdminHandlers, AuthHandlers, HttpRequest, HttpResponse } from '../../http/index.js';
import { parseBody } from '../../http/index.js';
import { clientIp } from '../client-ip.js';
import { limitAnonymous, type RouteRuntime, readBodyText, type ServiceEnv, z } from '../route.js';

const SeedError = z
  .object({
    error: z.object({
      message: z.string(),
      details: z.string().optional(),
      code: z.string().optional(),
    }),
  })
  .openapi('SeedError', { description: 'Error body of the @access-tokens/express routes.' });

const OAuthError = z
  .object({ error: z.string(), error_description: z.string().optional() })
  .openapi('OAuthError', { description: 'RFC 6749 §5.2 error body.' });

const PatRecordSchema = z
  .object({
    tokenId: z.string(),
    owner: z.string(),
    isAdmin: z.boolean(),
    roles: z.array(z.string()).optional(),
    createdAt: z.number(),
    lastUsedAt: z.number().nullable().optional(),
    revokedAt: z.number().nullable().optional(),
    expiresAt: z.number().nullable().optional(),
  })
  .openapi('SeedTokenRecord', {
    description:
      'A token as the seed returns it (epoch seconds). Never its secret hash, even with includeSecretPhc.',
  });

const TokenResponse = z
  .object({
    access_token: z.string(),
    token_type: z.string(),
    expires_in: z.number(),
    state: z.string().optional(),
    scope: z.string().optional(),
  })
  .openapi('TokenResponse');

const Introspection = z
  .looseObject({ active: z.boolean() })
  .openapi('Introspection', { description: 'RFC 7662 introspection response.' });

const Jwks = z
  .object({
    keys: z.array(
      z.object({
        kty: z.string(),
        kid: z.string(),
        alg: z.string(),
        use: z.string(),
        crv: z.string().optional(),
        x: z.string().optional(),
        y: z.string().optional(),
        n: z.string().optional(),
        e: z.string().optional(),
      }),
    ),
  })
  .openapi('Jwks', { description: 'Public keys only (RFC 7517).' });

const Metadata = z.looseObject({ issuer: z.string() }).openapi('AuthorizationServerMetadata');

const TokenRequest = z
  .object({
    grant_type: z.string().optional(),
    client_id: z.string().optional(),
    client_secret: z.string().optional(),
    state: z.string().optional(),
    scope: z.string().optional(),
  })
  .openapi('TokenRequest');

const TokenParam = z.object({ tokenId: z.string() });

interface Spec {
  readonly method: 'get' | 'post' | 'put' | 'patch';
  /** Path on the service (`:param` style). */
  readonly path: string;
  /** Path the handler believes it is mounted at (for metadata URLs). */
  readonly handlerPath?: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description: string;
  readonly tags: string[];
  readonly handler: (req: HttpRequest) => Promise<HttpResponse>;
  /** Success status → schema (bodies are parsed through it). */
  readonly success: Record<number, z.ZodType | null>;
  readonly errorSchema: z.ZodType;
  readonly errors: number[];
  readonly body?: z.ZodType;
  readonly form?: boolean;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  /** Exempt from the per-IP limit (public, cacheable documents). */
  readonly unlimited?: boolean;
  readonly bearer?: boolean;
}

/** The body for the handlers, read within the limit (a chunked body is cut off at it). */
async function readBody(c: Context, limit: number): Promise<unknown> {
  const type = c.req.header('content-type');
  if (type === undefined) return undefined;
  return parseBody(type, await readBodyText(c, limit));
}

function queryOf(c: Context): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, values] of Object.entries(c.req.queries())) {
    out[k] = values.length === 1 ? (values[0] as string) : values;
  }
  return out;
}

function register(app: OpenAPIHono<ServiceEnv>, rt: RouteRuntime, spec: Spec): void {
  const responses: RouteConfig['responses'] = {};
  for (const [status, schema] of Object.entries(spec.success)) {
    responses[status] = {
      description: 'Success.',
      ...(schema ? { content: { 'application/json': { schema } } } : {}),
    };
  }
  for (const status of spec.errors) {
    responses[String(status)] = {
      description: 'Error.',
      content: { 'application/json': { schema: spec.errorSchema } },
    };
  }
  const request: NonNullable<RouteConfig['request']> = {};
  if (spec.body) {
    request.body = {
      required: false,
      content: {
        'application/json': { schema: spec.body },
        ...(spec.form ? { 'application/x-www-form-urlencoded': { schema: spec.body } } : {}),
      },
    };
  }
  if (spec.params) request.params = spec.params as never;
  if (spec.query) request.query = spec.query as never;
  app.openAPIRegistry.registerPath({
    method: spec.method,
    path: spec.path.replace(/:([A-Za-z]+)/g, '{$1}'),
    operationId: spec.operationId,
    summary: spec.summary,
    description: spec.description,
    tags: spec.tags,
    security: spec.bearer ? [{ bearerAuth: [] }] : [],
    ...(Object.keys(request).length > 0 ? { request } : {}),
    responses,
  });
  app.on(spec.method.toUpperCase(), spec.path, async (c) => {
    const ip = clientIp(c, rt.trustProxy);
    if (!spec.unlimited) await limitAnonymous(c, rt, ip);
    const headers: Record<string, string> = {};
    c.req.raw.headers.forEach((v, k) => {
      headers[k] = v;
    });
    const req: HttpRequest = {
      method: c.req.method,
      path: spec.handlerPath ?? c.req.path,
      headers,
      query: queryOf(c),
      params: c.req.param() as Record<string, string>,
      body: await readBody(c, rt.bodyLimitBytes),
      ip,
      origin: new URL(c.req.url).origin,
    };
    const answer = await spec.handler(req);
    for (const [k, v] of Object.entries(answer.headers)) c.header(k, v);
    if (answer.body === undefined) return c.body(null, answer.status as 204);
    const schema = spec.success[answer.status];
    let body: unknown = answer.body;
    if (schema) {
      const parsed = schema.safeParse(body);
      if (!parsed.success) {
        throw new Error(`${spec.operationId}: reply does not match its schema`);
      }
      body = parsed.data;
    } else if (answer.status < 400) {
      throw new Error(`${spec.operationId}: undocumented status ${answer.status}`);
    }
    return c.json(body as object, answer.status as 200);
  });
}

/** Mount the OAuth endpoints and the seed's routes. */
export function mountOAuthRoutes(
  app: OpenAPIHono<ServiceEnv>,
  rt: RouteRuntime,
  handlers: { auth: AuthHandlers; admin: AdminHandlers },
): void {
  const { auth, admin } = handlers;
  const oauthTags = ['OAuth'];
  const seedTags = ['Seed admin routes'];
  register(app, rt, {
    method: 'post',
    path: '/auth/token',
    operationId: 'token',
    summary: 'Exchange an access token for a JWT (client credentials)',
    description:
      'The PAT as `client_secret` (JSON or form, client_secret_post), `Authorization: Basic base64(":<pat>")` (client_secret_basic), or `Authorization: Bearer <pat>`. Answers `{access_token, token_type: "Bearer", expires_in}` with `Cache-Control: no-store`. Rate limited per client IP, plus a brute-force throttle per IP and token id.',
    tags: oauthTags,
    handler: auth.token,
    body: TokenRequest,
    form: true,
    success: { 200: TokenResponse },
    errorSchema: z.union([SeedError, OAuthError]),
    errors: [400, 401, 413, 429, 500, 503],
  });
  register(app, rt, {
    method: 'post',
    path: '/auth/introspect',
    operationId: 'introspect',
    summary: 'Token introspection (RFC 7662)',
    description:
      'The caller authenticates with a JWT or PAT that is an admin token, or holds `tessera:admin` or `tessera:introspect` (403 `insufficient_scope` otherwise), as on every other route; `token` names a JWT or a PAT.',
    tags: oauthTags,
    handler: auth.introspect,
    body: z.object({ token: z.string(), token_type_hint: z.string().optional() }),
    form: true,
    bearer: true,
    success: { 200: Introspection },
    errorSchema: OAuthError,
    errors: [400, 401, 403, 413, 429, 500, 503],
  });
  register(app, rt, {
    method: 'post',
    path: '/auth/revoke',
    operationId: 'revoke',
    summary: 'Token revocation (RFC 7009)',
    description:
      'Revokes a JWT (denylist until it expires), or a PAT together with the JWTs minted from it; answers 200 also for an unknown token, 400 `unauthorized_client` for a token of another client (unless the caller is an admin).',
    tags: oauthTags,
    handler: auth.revoke,
    body: z.object({ token: z.string(), token_type_hint: z.string().optional() }),
    form: true,
    bearer: true,
    success: { 200: null },
    errorSchema: OAuthError,
    errors: [400, 401, 403, 413, 429, 500, 503],
  });
  for (const [prefix, suffix] of [
    ['/auth', ''],
    ['', ' (root alias)'],
  ] as const) {
    register(app, rt, {
      method: 'get',
      path: `${prefix}/.well-known/jwks.json`,
      handlerPath: '/auth/.well-known/jwks.json',
      operationId: `jwks${prefix ? '' : 'Root'}`,
      summary: `JSON Web Key Set (RFC 7517)${suffix}`,
      description: 'The public keys that verify JWTs minted by `POST /auth/token`.',
      tags: oauthTags,
      handler: auth.jwks,
      success: { 200: Jwks },
      errorSchema: OAuthError,
      errors: [500],
      unlimited: true,
    });
    register(app, rt, {
      method: 'get',
      path: `${prefix}/.well-known/oauth-authorization-server`,
      handlerPath: '/auth/.well-known/oauth-authorization-server',
      operationId: `metadata${prefix ? '' : 'Root'}`,
      summary: `Authorization server metadata (RFC 8414)${suffix}`,
      description: 'Endpoints and supported methods.',
      tags: oauthTags,
      handler: auth.metadata,
      success: { 200: Metadata },
      errorSchema: OAuthError,
      errors: [500],
      unlimited: true,
    });
  }

  const seedErrors = [400, 401, 403, 404, 409, 413, 429, 500];
  const adminDescription =
    'The @access-tokens/express admin route: `Authorization: Bearer <admin JWT>` from `POST /auth/token`. Times in epoch seconds, as the seed.';
  const routes: Array<Omit<Spec, 'tags' | 'errorSchema' | 'errors' | 'bearer' | 'description'>> = [
    {
      method: 'get',
      path: '/admin/tokens',
      operationId: 'seedListTokens',
      summary: 'List tokens (seed)',
      handler: admin.list,
      query: z.object({
        afterTokenId: z.string().optional(),
        limit: z.string().optional(),
        includeRevoked: z.string().optional(),
        includeExpired: z.string().optional(),
        includeSecretPhc: z.string().optional(),
        hasRole: z.string().optional(),
      }),
      success: { 200: z.object({ records: z.array(PatRecordSchema) }) },
    },
    {
      method: 'post',
      path: '/admin/tokens/batch',
      operationId: 'seedBatchTokens',
      summary: 'Load tokens by id (seed)',
      handler: admin.batch,
      body: z.object({
        tokenIds: z.array(z.string()),
        includeSecretPhc: z.boolean().optional(),
      }),
      success: {
        200: z.object({ found: z.array(PatRecordSchema), notFound: z.array(z.string()) }),
      },
    },
    {
      method: 'post',
      path: '/admin/tokens',
      operationId: 'seedIssueToken',
      summary: 'Issue a token (seed)',
      handler: admin.issue,
      body: z.object({
        owner: z.string(),
        isAdmin: z.boolean().optional(),
        roles: z.array(z.string()).optional(),
        tokenId: z.string().optional(),
        expiresAt: z.number().optional(),
      }),
      success: { 201: z.object({ token: z.string(), record: PatRecordSchema }) },
    },
    {
      method: 'put',
      path: '/admin/tokens/:tokenId',
      operationId: 'seedRegisterToken',
      summary: 'Register a pre-generated token (seed)',
      handler: admin.register,
      params: TokenParam,
      body: z.object({ secretPhc: z.string(), owner: z.string() }).passthrough(),
      success: {
        200: z.object({ record: PatRecordSchema }),
        201: z.object({ record: PatRecordSchema }),
      },
    },
    {
      method: 'patch',
      path: '/admin/tokens/:tokenId',
      operationId: 'seedUpdateToken',
      summary: 'Update a token (seed)',
      handler: admin.update,
      params: TokenParam,
      body: z.object({}).passthrough(),
      success: { 204: null },
    },
    {
      method: 'put',
      path: '/admin/tokens/:tokenId/revoke',
      operationId: 'seedRevokeToken',
      summary: 'Revoke a token (seed)',
      handler: admin.revoke,
      params: TokenParam,
      body: z.object({ expiresAt: z.number().optional() }),
      success: { 204: null },
    },
    {
      method: 'put',
      path: '/admin/tokens/:tokenId/restore',
      operationId: 'seedRestoreToken',
      summary: 'Restore a revoked token (seed)',
      handler: admin.restore,
      params: TokenParam,
      success: { 204: null },
    },
  ];
  for (const r of routes) {
    register(app, rt, {
      ...r,
      description: adminDescription,
      tags: seedTags,
      errorSchema: SeedError,
      errors: seedErrors,
      bearer: true,
    });
  }
}
