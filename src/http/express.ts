/**
 * `tessera/express`: the `@access-tokens/express` API (`createAuthRouter`,
 * `createAdminTokensRouter`, `createRequireJwt`, `createRequireAdmin`,
 * `createRequireRole`, `generateKeySet`, `buildSignerVerifier`) over the
 * framework-neutral handlers, with the seed's statuses and bodies and its
 * faults fixed: 404 for unknown ids, revoke without a body on Express 5,
 * error handling inside the routers, a JWKS route, RFC 8414 metadata, RFC
 * 7662 introspection, RFC 7009 revocation and brute-force throttling.
 *
 * Works on Express 4.18+ and 5 (the routers use the app's own `express`,
 * never pass a rejected promise to Express, read their own bodies and query
 * strings, and accept bodies an app-level parser already read).
 *
 * Each route reads its own JSON and form bodies, so the routers work with or
 * without `express.json()` in the app. Reading stops at 100 KiB, declared or
 * not: a longer (or endless chunked) body is answered 413 with
 * `Connection: close` while the client is still sending.
 * @module
 */
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { type AdminHandlers, createAdminHandlers } from './admin-handlers.js';
import { type AuthHandlers, createAuthHandlers, type Handler } from './auth-handlers.js';
import { isParsedType, parseBody, parseForm } from './body.js';
import { adminAnswer, createJwtGuard, roleAnswer } from './guard.js';
import { readNodeBody } from './node-body.js';
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
export type { JwtSignerVerifier, KeySet } from '../jwt/types.js';
export { fromAccessTokens } from './native-adapter.js';
export type {
  AccessTokenMethods,
  AdminHandlerOptions,
  AuthHandlerOptions,
  GuardOptions,
  HttpLogger,
  JwtUser,
  PatRecord,
  PatThrottleOptions,
} from './types.js';

declare global {
  namespace Express {
    interface Request {
      /** Set by `createRequireJwt`: `{ sub, owner, admin, roles }`. */
      user?: JwtUser;
    }
  }
}

function headersOf(req: Request): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/**
 * Query parameters from the raw URL, whatever the app's `query parser`
 * setting (Express 4 defaults to `qs`, whose nested objects the handlers do
 * not expect): each parameter once as a string, repeated ones as arrays.
 */
function queryOf(req: Request): Record<string, string | string[]> {
  const url = req.originalUrl ?? req.url ?? '';
  const at = url.indexOf('?');
  return at < 0 ? {} : parseForm(url.slice(at + 1));
}

/** The body an app-level parser left on `req.body`, parsed if it is still raw. */
function parsedByApp(req: Request): unknown {
  const raw: unknown = req.body;
  const type = req.headers['content-type'];
  if (typeof raw === 'string') return parseBody(type, raw);
  if (Buffer.isBuffer(raw)) return parseBody(type, raw.toString('utf8'));
  return raw;
}

/**
 * The neutral request of an Express request.
 *
 * @param req - the Express request (Express 4.18+ or 5)
 * @param body - the parsed body (default: what an app-level parser left on
 *   `req.body`, parsed here if it is a string or a Buffer)
 * @example `const answer = await handlers.token(toHttpRequest(req, body));`
 */
export function toHttpRequest(req: Request, body: unknown = parsedByApp(req)): HttpRequest {
  return {
    method: req.method,
    path: `${req.baseUrl}${req.path}`,
    headers: headersOf(req),
    query: queryOf(req),
    params: (req.params ?? {}) as HttpRequest['params'],
    body,
    ip: req.ip ?? req.socket.remoteAddress ?? '',
    origin: `${req.protocol}://${req.get('host') ?? 'localhost'}`,
  };
}

/**
 * Write a neutral response (JSON body, or none).
 * @param res - the Express response
 * @param answer - the neutral response
 * @example `sendHttpResponse(res, { status: 204, headers: {} });`
 */
export function sendHttpResponse(res: Response, answer: HttpResponse): void {
  res.status(answer.status);
  for (const [k, v] of Object.entries(answer.headers)) res.setHeader(k, v);
  if (answer.body === undefined) res.end();
  else res.json(answer.body);
}

const MALFORMED = { details: 'Malformed request body' };

/**
 * The body of a route's request: what an app-level parser already read
 * (`express.json()` and friends), or the stream read here with the bound.
 */
async function bodyOf(
  req: Request,
): Promise<{ ok: true; body: unknown } | { ok: false; answer: HttpResponse }> {
  const parsed = (req as { _body?: unknown })._body === true;
  if (parsed || (req.readableEnded && req.body !== undefined)) {
    return { ok: true, body: parsedByApp(req) };
  }
  const type = req.headers['content-type'];
  if (!isParsedType(type)) return { ok: true, body: undefined };
  const r = await readNodeBody(req);
  if (r.ok) return { ok: true, body: parseBody(type, r.text) };
  const answer =
    r.reason === 'too_large'
      ? seedError(413, 'Request body too large', {}, { connection: 'close' })
      : seedError(
          r.reason === 'unsupported_encoding' ? 415 : 400,
          'Invalid request body',
          MALFORMED,
        );
  return { ok: false, answer };
}

/**
 * A route handler that never rejects: Express 4 does not pass rejected
 * promises to error handlers, so every failure is answered here.
 */
function routeHandler(handler: Handler, logger: HttpLogger | undefined): RequestHandler {
  const answer = async (req: Request, res: Response): Promise<void> => {
    try {
      const b = await bodyOf(req);
      const out = b.ok ? await handler(toHttpRequest(req, b.body)) : b.answer;
      if (!res.headersSent) sendHttpResponse(res, out);
    } catch (err) {
      if (!res.headersSent) sendHttpResponse(res, internalError(err, logger));
    }
  };
  return (req, res) => {
    void answer(req, res);
  };
}

function mount<N extends string>(
  router: Router,
  routes: readonly RouteSpec<N>[],
  handlers: Readonly<Record<N, Handler>>,
  logger: HttpLogger | undefined,
): Router {
  for (const route of routes) {
    const method = route.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch';
    router[method](route.path, routeHandler(handlers[route.handler], logger));
  }
  return router;
}

/**
 * The auth router: `POST /token` (PAT → JWT), `GET /.well-known/jwks.json`,
 * `GET /.well-known/oauth-authorization-server`, `POST /introspect`, `POST /revoke`.
 *
 * Throttling is on by default only when `pat` exposes its store (`pat.store`);
 * otherwise the token endpoint is NOT throttled unless you pass
 * `throttle: { store }` (see {@link AuthHandlerOptions.throttle}).
 *
 * @param options - `pat` (a `DynamoDBPat`, or `fromAccessTokens(native)`), `signerVerifier`;
 *   `style` (`seed` default, or `oauth` for RFC 6749 errors), `throttle: { store }`,
 *   `publicUrl`, `logger`; see {@link AuthHandlerOptions}
 * @throws TypeError for missing or bad options; RangeError for a bad throttle rule or `jwksMaxAgeSeconds`
 * @example
 * ```ts
 * app.use('/auth', createAuthRouter({ pat, signerVerifier, throttle: { store } }));
 * ```
 */
export function createAuthRouter(options: AuthHandlerOptions): Router {
  const handlers: AuthHandlers = createAuthHandlers(options);
  return mount(express.Router(), AUTH_ROUTES, handlers, options.logger);
}

/**
 * The admin router (every route requires an admin JWT): `GET /tokens`,
 * `POST /tokens/batch`, `POST /tokens`, `PUT /tokens/:tokenId`,
 * `PATCH /tokens/:tokenId`, `PUT /tokens/:tokenId/revoke`, `PUT /tokens/:tokenId/restore`.
 *
 * @param options - `pat`, `signerVerifier`; `clock`, `logger`; see {@link AdminHandlerOptions}
 * @throws TypeError for missing options
 * @example
 * ```ts
 * app.use('/admin', createAdminTokensRouter({ pat, signerVerifier }));
 * ```
 */
export function createAdminTokensRouter(options: AdminHandlerOptions): Router {
  const handlers: AdminHandlers = createAdminHandlers(options);
  return mount(express.Router(), ADMIN_ROUTES, handlers, options.logger);
}

/**
 * Middleware that requires `Authorization: Bearer <jwt>` and sets `req.user`.
 * 401 `{ error: { message: "Missing or invalid Authorization header" } }` or
 * `{ error: { message: "Invalid JWT", code } }`, with `WWW-Authenticate: Bearer`.
 *
 * @param options - `signerVerifier`; `realm`, `logger`
 * @example
 * ```ts
 * app.get('/api/data', createRequireJwt({ signerVerifier }), (req, res) => res.json(req.user));
 * ```
 */
export function createRequireJwt(options: GuardOptions): RequestHandler {
  const guard = createJwtGuard(options);
  return async (req, res, next) => {
    try {
      const r = await guard.authenticate(req.headers.authorization);
      if (!r.ok) {
        sendHttpResponse(res, r.response);
        return;
      }
      req.user = r.user;
      next();
    } catch (err) {
      next(err);
    }
  };
}

/**
 * Middleware that requires `req.user.admin` (after `createRequireJwt`): 401
 * "User not authenticated" or 403 "Admin access required".
 *
 * @param options - `realm` of the challenge (default `tessera`); `logger` is accepted
 * @example `app.delete('/users/:id', requireJwt, createRequireAdmin(), handler);`
 */
export function createRequireAdmin(
  options: { realm?: string; logger?: HttpLogger } = {},
): RequestHandler {
  return (req, res, next) => {
    const denied = adminAnswer(req.user, options.realm);
    if (denied) sendHttpResponse(res, denied);
    else next();
  };
}

/**
 * Middleware that requires `role` in `req.user.roles` (after `createRequireJwt`):
 * 401 "User not authenticated" or 403 "Access denied".
 *
 * @param options - `role`; `realm` (default `tessera`); `logger` is accepted
 * @throws TypeError when `role` is not a non-empty string
 * @example `app.put('/content', requireJwt, createRequireRole({ role: 'editor' }), handler);`
 */
export function createRequireRole(options: {
  role: string;
  realm?: string;
  logger?: HttpLogger;
}): RequestHandler {
  if (typeof options?.role !== 'string' || options.role === '') {
    throw new TypeError('role must be a non-empty string');
  }
  return (req, res, next) => {
    const denied = roleAnswer(req.user, options.role, options.realm);
    if (denied) sendHttpResponse(res, denied);
    else next();
  };
}
