/**
 * `tessera/express`: the `@access-tokens/express` API (`createAuthRouter`,
 * `createAdminTokensRouter`, `createRequireJwt`, `createRequireAdmin`,
 * `createRequireRole`, `generateKeySet`, `buildSignerVerifier`) over the
 * framework-neutral handlers, with the seed's statuses and bodies and its
 * faults fixed: 404 for unknown ids, revoke without a body on Express 5,
 * error handling inside the routers, a JWKS route, RFC 8414 metadata, RFC
 * 7662 introspection, RFC 7009 revocation and brute-force throttling.
 *
 * Each route parses its own JSON and form bodies (100 KiB limit), so the
 * routers work with or without `express.json()` in the app.
 * @module
 */
import express, {
  type ErrorRequestHandler,
  type Request,
  type RequestHandler,
  type Response,
  type Router,
} from 'express';
import { type AdminHandlers, createAdminHandlers } from './admin-handlers.js';
import { type AuthHandlers, createAuthHandlers, type Handler } from './auth-handlers.js';
import { BODY_LIMIT_BYTES, isParsedType, parseBody } from './body.js';
import { adminAnswer, createJwtGuard, roleAnswer } from './guard.js';
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
 * The neutral request of an Express request (a string body from the route's
 * parser is parsed here; a body the app already parsed is used as is).
 * @example `const answer = await handlers.token(toHttpRequest(req));`
 */
export function toHttpRequest(req: Request): HttpRequest {
  const raw: unknown = req.body;
  const body = typeof raw === 'string' ? parseBody(req.headers['content-type'], raw) : raw;
  return {
    method: req.method,
    path: `${req.baseUrl}${req.path}`,
    headers: headersOf(req),
    query: (req.query ?? {}) as HttpRequest['query'],
    params: (req.params ?? {}) as HttpRequest['params'],
    body,
    ip: req.ip ?? req.socket.remoteAddress ?? '',
    origin: `${req.protocol}://${req.get('host') ?? 'localhost'}`,
  };
}

/**
 * Write a neutral response (JSON body, or none).
 * @example `sendHttpResponse(res, { status: 204, headers: {} });`
 */
export function sendHttpResponse(res: Response, answer: HttpResponse): void {
  res.status(answer.status);
  for (const [k, v] of Object.entries(answer.headers)) res.setHeader(k, v);
  if (answer.body === undefined) res.end();
  else res.json(answer.body);
}

const readBody: RequestHandler = express.text({
  type: (req) => isParsedType(req.headers['content-type']),
  limit: BODY_LIMIT_BYTES,
});

function bodyErrors(logger: HttpLogger | undefined): ErrorRequestHandler {
  return (err, _req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const status = (err as { status?: unknown })?.status;
    if (status === 413) {
      sendHttpResponse(res, seedError(413, 'Request body too large'));
    } else if (typeof status === 'number' && status >= 400 && status < 500) {
      sendHttpResponse(
        res,
        seedError(status === 415 ? 415 : 400, 'Invalid request body', {
          details: 'Malformed request body',
        }),
      );
    } else {
      sendHttpResponse(res, internalError(err, logger));
    }
  };
}

function mount<N extends string>(
  router: Router,
  routes: readonly RouteSpec<N>[],
  handlers: Readonly<Record<N, Handler>>,
  logger: HttpLogger | undefined,
): Router {
  const onError = bodyErrors(logger);
  for (const route of routes) {
    const handler = handlers[route.handler];
    const run: RequestHandler = async (req, res) => {
      sendHttpResponse(res, await handler(toHttpRequest(req)));
    };
    const method = route.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch';
    router[method](route.path, readBody, run, onError);
  }
  return router;
}

/**
 * The auth router: `POST /token` (PAT → JWT), `GET /.well-known/jwks.json`,
 * `GET /.well-known/oauth-authorization-server`, `POST /introspect`, `POST /revoke`.
 *
 * @param options - `pat` (a `DynamoDBPat`, or `fromAccessTokens(native)`), `signerVerifier`;
 *   `style` (`seed` default, or `oauth` for RFC 6749 errors), `throttle: { store }`,
 *   `publicUrl`, `logger`; see {@link AuthHandlerOptions}
 * @throws TypeError for missing or bad options
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
