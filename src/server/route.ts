/**
 * Schema-first routes. A route is declared once — method, path, roles,
 * request and response schemas — and that one declaration drives the OpenAPI
 * document, request validation (strict: unknown fields are refused) and the
 * serialisation of every reply through its response schema, which drops any
 * field the schema does not name (so no hash can leak) and fails closed (500)
 * when a reply does not match.
 *
 * Per request, in order: authentication and roles (or the anonymous IP rate
 * limit), the identity rate limit, the body (size, media type, JSON, schema),
 * the query and path parameters, the handler, the reply schema.
 * @module
 */

import { type OpenAPIHono, type RouteConfig, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Logger } from 'pino';
import { InvalidInputError, ThrottledError, UnauthorizedError } from '../core/errors.js';
import { RequestBodyError } from '../http/body.js';
import { readHonoBody } from '../http/hono-body.js';
import type { Authenticator } from './auth.js';
import { clientIp } from './client-ip.js';
import { HttpError, InsufficientScopeError } from './http-errors.js';
import type { ServiceMetrics } from './metrics.js';
import type { RateLimiter, RateLimitHit } from './rate-limit.js';
import { hasAnyRole, type Principal } from './roles.js';
import { ErrorSchema } from './schemas.js';

/** Variables the service keeps on the Hono context. */
export interface ServiceEnv {
  Variables: {
    requestId: string;
    principal: Principal | undefined;
  };
}

/** What routes share: authentication, rate limits, metrics, logs and limits. */
export interface RouteRuntime {
  readonly auth: Authenticator;
  readonly rateLimiter: RateLimiter;
  readonly metrics: ServiceMetrics;
  readonly logger: Logger;
  readonly bodyLimitBytes: number;
  readonly trustProxy: number;
  readonly exposeReasons: boolean;
}

/** A documented answer of a route. */
export interface ResponseSpec {
  readonly description: string;
  /** JSON body schema; omit for an empty body (204). */
  readonly schema?: z.ZodType;
}

/** Who may call a route. */
export type RouteAuth =
  /** Any of these roles (or `tessera:admin`). */
  | { readonly roles: readonly string[] }
  /** Anyone; limited per client IP. */
  | 'anonymous';

/** The declaration of a route. */
export interface RouteSpec<
  B extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodType | undefined = z.ZodType | undefined,
  P extends z.ZodType | undefined = z.ZodType | undefined,
  R extends Record<number, ResponseSpec> = Record<number, ResponseSpec>,
> {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI path, `{param}` style. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly auth: RouteAuth;
  readonly body?: B;
  readonly query?: Q;
  readonly params?: P;
  readonly responses: R;
  /** Further documented error statuses (400, 401, 403, 413, 415, 429, 500 and 503 are implied). */
  readonly errors?: readonly number[];
}

type Out<T> = T extends z.ZodType ? z.output<T> : undefined;
type In<T> = T extends z.ZodType ? z.input<T> : undefined;

/** What a handler returns: a documented status and its body. */
export type Reply<R extends Record<number, ResponseSpec>> = {
  [S in keyof R & number]: {
    readonly status: S;
    readonly body: In<R[S]['schema']>;
    readonly headers?: Record<string, string>;
  };
}[keyof R & number];

/** The validated input of a handler. */
export interface RouteInput<B, Q, P> {
  readonly body: Out<B>;
  readonly query: Out<Q>;
  readonly params: Out<P>;
  /** The caller (undefined on anonymous routes). */
  readonly principal: Principal | undefined;
  /** The client address (for throttles keyed by IP). */
  readonly ip: string;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input (`ERR_TESSERA_INVALID_INPUT`, with `field`).',
  401: 'Missing or invalid credential (`ERR_TESSERA_UNAUTHORIZED`); `WWW-Authenticate: Bearer`.',
  403: 'The credential lacks the role (`ERR_TESSERA_FORBIDDEN`); `WWW-Authenticate: Bearer error="insufficient_scope", scope="<roles>"`.',
  404: 'Not found (`ERR_TESSERA_NOT_FOUND`).',
  409: 'Conflict (`ERR_TESSERA_ALREADY_EXISTS`, `ERR_TESSERA_CONFLICT`, `ERR_TESSERA_REVOKED`).',
  413: 'Body too large (`ERR_TESSERA_BODY_TOO_LARGE`).',
  415: 'Body is not `application/json` (`ERR_TESSERA_UNSUPPORTED_MEDIA_TYPE`).',
  429: 'Rate limited or throttled (`ERR_TESSERA_THROTTLED`, `ERR_TESSERA_LOCKED`); see `Retry-After`.',
  500: 'Unexpected error (`ERR_TESSERA_INTERNAL`); details are in the log only.',
  503: 'The store is unavailable (`ERR_TESSERA_STORE_UNAVAILABLE`, `ERR_TESSERA_STORE`).',
};

const RATE_LIMIT_HEADERS = {
  'RateLimit-Limit': {
    description: 'Requests allowed in the window.',
    schema: { type: 'integer' },
  },
  'RateLimit-Remaining': {
    description: 'Requests left in the window.',
    schema: { type: 'integer' },
  },
  'RateLimit-Reset': {
    description: 'Seconds until the window resets.',
    schema: { type: 'integer' },
  },
  'RateLimit-Policy': {
    description: 'The policy, `<limit>;w=<window seconds>`.',
    schema: { type: 'string' },
  },
} as const;

/** The OpenAPI route config of a declaration. */
function openApiConfig(spec: RouteSpec): RouteConfig {
  const responses: RouteConfig['responses'] = {};
  for (const [status, r] of Object.entries(spec.responses)) {
    responses[status] = {
      description: r.description,
      headers: RATE_LIMIT_HEADERS,
      ...(r.schema ? { content: { 'application/json': { schema: r.schema } } } : {}),
    };
  }
  const anonymous = spec.auth === 'anonymous';
  const errors = new Set<number>([400, 429, 500, 503, ...(spec.errors ?? [])]);
  if (!anonymous) {
    errors.add(401);
    errors.add(403);
  }
  if (spec.body) {
    errors.add(413);
    errors.add(415);
  }
  for (const status of [...errors].sort()) {
    responses[String(status)] ??= {
      description: ERROR_DESCRIPTIONS[status] ?? 'Error.',
      content: { 'application/json': { schema: ErrorSchema } },
    };
  }
  const roles = anonymous ? [] : (spec.auth as { roles: readonly string[] }).roles;
  const request: NonNullable<RouteConfig['request']> = {};
  if (spec.body)
    request.body = { required: true, content: { 'application/json': { schema: spec.body } } };
  if (spec.query) request.query = spec.query as never;
  if (spec.params) request.params = spec.params as never;
  return {
    method: spec.method,
    path: spec.path,
    operationId: spec.operationId,
    summary: spec.summary,
    description: [
      spec.description,
      anonymous
        ? 'No credential; rate limited per client IP.'
        : `Roles: ${['tessera:admin', ...roles].map((r) => `\`${r}\``).join(' or ')}.`,
    ]
      .filter(Boolean)
      .join('\n\n'),
    tags: [...spec.tags],
    ...(anonymous ? { security: [] } : { security: [{ bearerAuth: [] }] }),
    ...(Object.keys(request).length > 0 ? { request } : {}),
    responses,
  };
}

/** Turn a zod error into `InvalidInputError` naming the first offending field. */
export function invalidInput(error: z.ZodError, where: string): InvalidInputError {
  const issue = error.issues[0];
  if (!issue) return new InvalidInputError(`invalid ${where}`);
  if (issue.code === 'unrecognized_keys') {
    const key = String(issue.keys[0] ?? '').slice(0, 80);
    const path = [...issue.path.map(String), key].join('.');
    return new InvalidInputError(`unknown field ${JSON.stringify(path)}`, path);
  }
  const path = issue.path.map(String).join('.');
  return new InvalidInputError(
    path ? `${path}: ${issue.message}` : `${where}: ${issue.message}`,
    path || undefined,
  );
}

const JSON_TYPE = /^application\/(?:[a-z0-9.+-]+\+)?json\s*(?:;|$)/i;

function tooLarge(limit: number): RequestBodyError {
  return new RequestBodyError('too_large', `Body exceeds ${limit} bytes.`);
}

/**
 * Read a request body as UTF-8 text, never holding more than `limit` bytes,
 * with the one bounded reader of `tessera/http` ({@link readHonoBody}): a
 * declared `Content-Length` above it is refused before reading, and a chunked
 * body is counted while it streams in and abandoned at the limit (the answer
 * closes the connection). Bodies in `Content-Encoding` gzip, deflate or br are
 * inflated, the limit applying to the inflated bytes.
 * @throws RequestBodyError 413 (`ERR_TESSERA_BODY_TOO_LARGE`), 400
 *   (`ERR_TESSERA_BODY_ABORTED`) or 415 (`ERR_TESSERA_UNSUPPORTED_MEDIA_TYPE`, another encoding)
 */
export async function readBodyText(c: Context, limit: number): Promise<string> {
  const r = await readHonoBody(c, limit);
  if (r.ok) return r.text;
  if (r.reason === 'too_large') throw tooLarge(limit);
  if (r.reason === 'unsupported_encoding') {
    throw new RequestBodyError(
      'unsupported_encoding',
      'The Content-Encoding must be gzip, deflate, br or identity.',
    );
  }
  throw new RequestBodyError('aborted');
}

/** Read a JSON body within the size limit. */
async function readJson(c: Context, limit: number): Promise<unknown> {
  const length = c.req.header('content-length');
  if (length !== undefined && Number(length) > limit) throw tooLarge(limit);
  const type = c.req.header('content-type');
  if (type === undefined || !JSON_TYPE.test(type)) {
    throw new HttpError(
      415,
      'ERR_TESSERA_UNSUPPORTED_MEDIA_TYPE',
      'The body must be application/json.',
    );
  }
  const text = await readBodyText(c, limit);
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidInputError('body must be valid JSON', 'body');
  }
}

function applyHeaders(c: Context, headers: Record<string, string> | undefined): void {
  if (!headers) return;
  for (const k in headers) c.header(k, headers[k]);
}

/**
 * Authenticate and authorise a request for `roles`, with the rate limits.
 * @throws UnauthorizedError, InsufficientScopeError (403, a ForbiddenError), ThrottledError
 */
export async function authorize(
  c: Context<ServiceEnv>,
  rt: RouteRuntime,
  roles: readonly string[],
  ip: string,
): Promise<Principal> {
  const blocked = rt.rateLimiter.blocked(ip);
  if (blocked) {
    rt.metrics.rateLimited('ip');
    applyHeaders(c, blocked.headers);
    throw new ThrottledError(blocked.retryAfterSeconds);
  }
  const outcome = await rt.auth.authenticate(c.req.header('authorization'));
  if (!outcome.ok) {
    const hit = await rt.rateLimiter.hitIp(ip);
    if (hit) {
      applyHeaders(c, hit.headers);
      if (!hit.allowed) {
        rt.metrics.rateLimited('ip');
        throw new ThrottledError(hit.retryAfterSeconds);
      }
    }
    throw new UnauthorizedError('A valid credential is required.');
  }
  const principal = outcome.principal;
  c.set('principal', principal);
  if (!hasAnyRole(principal, roles)) {
    throw new InsufficientScopeError(roles);
  }
  const hit = await rt.rateLimiter.hitIdentity(principal.id);
  if (hit) {
    applyHeaders(c, hit.headers);
    if (!hit.allowed) {
      rt.metrics.rateLimited('identity');
      throw new ThrottledError(hit.retryAfterSeconds);
    }
  }
  return principal;
}

/** Apply the anonymous per-IP limit. */
export async function limitAnonymous(
  c: Context,
  rt: RouteRuntime,
  ip: string,
): Promise<RateLimitHit | null> {
  const hit = await rt.rateLimiter.hitIp(ip);
  if (hit) {
    applyHeaders(c, hit.headers);
    if (!hit.allowed) {
      rt.metrics.rateLimited('ip');
      throw new ThrottledError(hit.retryAfterSeconds);
    }
  }
  return hit;
}

/** Serialise a reply through its response schema (fails closed). */
export function sendReply(
  c: Context,
  spec: Pick<RouteSpec, 'responses' | 'operationId'>,
  reply: { status: number; body: unknown; headers?: Record<string, string> },
): Response {
  const r = spec.responses[reply.status];
  if (!r) throw new Error(`${spec.operationId}: undocumented status ${reply.status}`);
  applyHeaders(c, reply.headers);
  if (!r.schema) return c.body(null, reply.status as 204);
  const parsed = r.schema.safeParse(reply.body);
  if (!parsed.success) {
    throw new Error(
      `${spec.operationId}: reply ${reply.status} does not match its schema: ${parsed.error.issues[0]?.message}`,
    );
  }
  return c.json(parsed.data as object, reply.status as 200);
}

/**
 * Declare a route on `app`: documented in its OpenAPI registry, validated, and
 * answered through its response schema.
 * @example
 * ```ts
 * defineRoute(app, rt, { method: 'get', path: '/v1/x/{id}', ... })(async (c, { params }) =>
 *   ({ status: 200, body: { id: params.id } }));
 * ```
 */
export function defineRoute<
  B extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  P extends z.ZodType | undefined = undefined,
  R extends Record<number, ResponseSpec> = Record<number, ResponseSpec>,
>(
  app: OpenAPIHono<ServiceEnv>,
  rt: RouteRuntime,
  spec: RouteSpec<B, Q, P, R>,
): (handler: (c: Context<ServiceEnv>, input: RouteInput<B, Q, P>) => Promise<Reply<R>>) => void {
  return (handler) => {
    app.openAPIRegistry.registerPath(openApiConfig(spec as RouteSpec));
    const roles = spec.auth === 'anonymous' ? null : spec.auth.roles;
    const honoPath = spec.path.replace(/\{([^}]+)\}/g, ':$1');
    app.on(spec.method.toUpperCase(), honoPath, async (c) => {
      const ip = clientIp(c, rt.trustProxy);
      let principal: Principal | undefined;
      if (roles === null) await limitAnonymous(c, rt, ip);
      else principal = await authorize(c, rt, roles, ip);
      let body: unknown;
      if (spec.body) {
        const parsed = spec.body.safeParse(await readJson(c, rt.bodyLimitBytes));
        if (!parsed.success) throw invalidInput(parsed.error, 'body');
        body = parsed.data;
      }
      let query: unknown;
      if (spec.query) {
        const parsed = spec.query.safeParse(c.req.query());
        if (!parsed.success) throw invalidInput(parsed.error, 'query');
        query = parsed.data;
      }
      let params: unknown;
      if (spec.params) {
        const parsed = spec.params.safeParse(c.req.param());
        if (!parsed.success) throw invalidInput(parsed.error, 'path');
        params = parsed.data;
      }
      const reply = await handler(c, {
        body: body as Out<B>,
        query: query as Out<Q>,
        params: params as Out<P>,
        principal,
        ip,
      });
      return sendReply(c, spec, reply as { status: number; body: unknown });
    });
  };
}

export { z };
