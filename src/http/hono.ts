/**
 * `tessera/hono`: the same routes and guards as `tessera/express`, the Hono
 * way: sub-apps to mount with `app.route()` (`createAuthApp`,
 * `createAdminTokensApp`) and middleware factories (`createRequireJwt`,
 * `createRequireAdmin`, `createRequireRole`) that set `c.get('user')`.
 *
 * The client IP comes from `getIp(c)`; by default the socket address that
 * `@hono/node-server` exposes (`c.env.incoming`), or `''` elsewhere, so
 * per-IP throttling on other runtimes needs `getIp`.
 * @module
 */
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { createAdminHandlers } from './admin-handlers.js';
import { createAuthHandlers, type Handler } from './auth-handlers.js';
import { isParsedType, parseBody, RequestBodyError } from './body.js';
import { adminAnswer, createJwtGuard, roleAnswer } from './guard.js';
import { readHonoBody } from './hono-body.js';
import { internalError, seedError } from './responses.js';
import { ADMIN_ROUTES, AUTH_ROUTES, type RouteSpec } from './routes.js';
import type {
  AdminHandlerOptions,
  AuthHandlerOptions,
  GuardOptions,
  HttpLogger,
  HttpRequest,
  HttpResponse,
  JwtUser,
} from './types.js';

export { buildSignerVerifier, generateKeySet } from '../jwt/index.js';
export { RequestBodyError, type RequestBodyErrorCode, type RequestBodyFailure } from './body.js';
export { readHonoBody } from './hono-body.js';
export { fromAccessTokens } from './native-adapter.js';
export type {
  AccessTokenMethods,
  AdminHandlerOptions,
  AuthHandlerOptions,
  GuardOptions,
  JwtUser,
  PatThrottleOptions,
} from './types.js';

/** Hono environment of the middleware: `c.get('user')`. */
export interface TesseraEnv {
  /** `user`: set by `createRequireJwt`. */
  Variables: { user: JwtUser };
}

/** Where the client IP comes from. */
export interface HonoIpOption {
  /** Client address (default: the `@hono/node-server` socket address, else `''`). */
  readonly getIp?: (c: Context) => string;
}

function defaultIp(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? '';
}

async function readBody(c: Context): Promise<unknown> {
  const type = c.req.header('content-type');
  if (!isParsedType(type)) return undefined;
  const r = await readHonoBody(c);
  if (r.ok) return parseBody(type, r.text);
  throw new RequestBodyError(r.reason);
}

function queryOf(c: Context): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, values] of Object.entries(c.req.queries())) {
    out[k] = values.length === 1 ? (values[0] as string) : values;
  }
  return out;
}

/**
 * The neutral request of a Hono context: reads JSON and form bodies chunk by
 * chunk, 100 KiB at most (an earlier middleware's read is reused; under
 * `@hono/node-server` gzip, deflate and br bodies are inflated, as Express does).
 *
 * @param c - the Hono context
 * @param getIp - the client address (default: the `@hono/node-server` socket address, else `''`)
 * @throws RequestBodyError (`ERR_TESSERA_BODY_TOO_LARGE`, status 413;
 *   `ERR_TESSERA_BODY_ABORTED`, status 400; `ERR_TESSERA_UNSUPPORTED_MEDIA_TYPE`,
 *   status 415 for a `Content-Encoding` it cannot inflate); the sub-apps answer it
 * @example `const answer = await handlers.token(await toHttpRequest(c));`
 */
export async function toHttpRequest(
  c: Context,
  getIp: (c: Context) => string = defaultIp,
): Promise<HttpRequest> {
  const headers: Record<string, string> = {};
  c.req.raw.headers.forEach((v, k) => {
    headers[k] = v;
  });
  return {
    method: c.req.method,
    path: c.req.path,
    headers,
    query: queryOf(c),
    params: c.req.param() as Record<string, string>,
    body: await readBody(c),
    ip: getIp(c),
    origin: new URL(c.req.url).origin,
  };
}

/**
 * A Hono `Response` of a neutral response (JSON body, or none).
 * @param c - the Hono context
 * @param answer - the neutral response
 * @example `return toResponse(c, { status: 204, headers: {} });`
 */
export function toResponse(c: Context, answer: HttpResponse): Response {
  const headers: Record<string, string> = { ...answer.headers };
  if (answer.body === undefined) return c.newResponse(null, answer.status as 200, headers);
  headers['content-type'] = 'application/json; charset=utf-8';
  return c.newResponse(JSON.stringify(answer.body), answer.status as 200, headers);
}

function mount<N extends string>(
  app: Hono,
  routes: readonly RouteSpec<N>[],
  handlers: Readonly<Record<N, Handler>>,
  getIp: ((c: Context) => string) | undefined,
  logger: HttpLogger | undefined,
): Hono {
  for (const route of routes) {
    const handler = handlers[route.handler];
    app.on(route.method, route.path, async (c) =>
      toResponse(c, await handler(await toHttpRequest(c, getIp))),
    );
  }
  app.onError((err, c) => {
    if (err instanceof RequestBodyError) {
      return toResponse(
        c,
        err.status === 413
          ? seedError(413, 'Request body too large', {}, { connection: 'close' })
          : seedError(err.status, 'Invalid request body', { details: 'Malformed request body' }),
      );
    }
    return toResponse(c, internalError(err, logger));
  });
  return app;
}

/**
 * The auth routes as a sub-app: `POST /token`, `GET /.well-known/jwks.json`,
 * `GET /.well-known/oauth-authorization-server`, `POST /introspect`, `POST /revoke`.
 *
 * Throttling is on by default only when `pat` exposes its store (`pat.store`);
 * otherwise the token endpoint is NOT throttled unless you pass
 * `throttle: { store }` (see {@link AuthHandlerOptions.throttle}).
 *
 * @param options - {@link AuthHandlerOptions} (`pat`, `signerVerifier`, ...) and `getIp`
 * @throws TypeError for missing or bad options; RangeError for a bad throttle rule or `jwksMaxAgeSeconds`
 * @example
 * ```ts
 * app.route('/auth', createAuthApp({ pat, signerVerifier, throttle: { store } }));
 * ```
 */
export function createAuthApp(options: AuthHandlerOptions & HonoIpOption): Hono {
  return mount(new Hono(), AUTH_ROUTES, createAuthHandlers(options), options.getIp, options.logger);
}

/**
 * The admin routes as a sub-app (every route requires an admin JWT): `GET /tokens`,
 * `POST /tokens/batch`, `POST /tokens`, `PUT /tokens/:tokenId`,
 * `PATCH /tokens/:tokenId`, `PUT /tokens/:tokenId/revoke`, `PUT /tokens/:tokenId/restore`.
 *
 * @param options - {@link AdminHandlerOptions} and `getIp`
 * @throws TypeError for missing options
 * @example
 * ```ts
 * app.route('/admin', createAdminTokensApp({ pat, signerVerifier }));
 * ```
 */
export function createAdminTokensApp(options: AdminHandlerOptions & HonoIpOption): Hono {
  return mount(
    new Hono(),
    ADMIN_ROUTES,
    createAdminHandlers(options),
    options.getIp,
    options.logger,
  );
}

/**
 * Middleware that requires `Authorization: Bearer <jwt>` and sets `c.get('user')`.
 * @param options - `signerVerifier`; `realm`, `logger`
 * @example
 * ```ts
 * app.get('/api/data', createRequireJwt({ signerVerifier }), (c) => c.json({ user: c.get('user') }));
 * ```
 */
export function createRequireJwt(options: GuardOptions): MiddlewareHandler<TesseraEnv> {
  const guard = createJwtGuard(options);
  return async (c, next) => {
    const r = await guard.authenticate(c.req.header('authorization'));
    if (!r.ok) return toResponse(c, r.response);
    c.set('user', r.user);
    await next();
  };
}

/**
 * Middleware that requires an admin (after `createRequireJwt`).
 * @param options - `realm` (default `tessera`)
 * @example `app.get('/x', requireJwt, createRequireAdmin(), handler);`
 */
export function createRequireAdmin(
  options: { realm?: string } = {},
): MiddlewareHandler<TesseraEnv> {
  return async (c, next) => {
    const denied = adminAnswer(c.get('user'), options.realm);
    if (denied) return toResponse(c, denied);
    await next();
  };
}

/**
 * Middleware that requires `role` in the user's roles (after `createRequireJwt`).
 * @param options - `role`; `realm` (default `tessera`)
 * @throws TypeError when `role` is not a non-empty string
 * @example `app.put('/content', requireJwt, createRequireRole({ role: 'editor' }), handler);`
 */
export function createRequireRole(options: {
  role: string;
  realm?: string;
}): MiddlewareHandler<TesseraEnv> {
  if (typeof options?.role !== 'string' || options.role === '') {
    throw new TypeError('role must be a non-empty string');
  }
  return async (c, next) => {
    const denied = roleAnswer(c.get('user'), options.role, options.realm);
    if (denied) return toResponse(c, denied);
    await next();
  };
}
