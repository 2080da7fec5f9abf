/**
 * `tessera/fastify`: the same routes and guards as `tessera/express`, the
 * Fastify way. Route plugins (`authRoutes`, `adminTokensRoutes`) register
 * with a `prefix`; `tesseraJwt` (a fastify-plugin plugin) decorates the
 * instance with `tessera.requireJwt`, `tessera.requireAdmin` and
 * `tessera.requireRole(role)` for `onRequest`, and the hook factories are
 * exported for direct use.
 *
 * The route plugins parse JSON and forms themselves (100 KiB limit; an empty
 * JSON body counts as no body) and render errors in the seed's shape, inside
 * their own encapsulation context only.
 * @module
 */
import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
} from 'fastify';
import fp from 'fastify-plugin';
import { createAdminHandlers } from './admin-handlers.js';
import { createAuthHandlers, type Handler } from './auth-handlers.js';
import { BODY_LIMIT_BYTES, parseBody } from './body.js';
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
export { fromAccessTokens } from './native-adapter.js';
export type {
  AccessTokenMethods,
  AdminHandlerOptions,
  AuthHandlerOptions,
  GuardOptions,
  JwtUser,
  PatThrottleOptions,
} from './types.js';

/** The guards `tesseraJwt` decorates the instance with. */
export interface TesseraGuards {
  /** Requires `Authorization: Bearer <jwt>` and sets `request.user` (see {@link createRequireJwt}). */
  readonly requireJwt: onRequestHookHandler;
  /** Requires an admin, after `requireJwt` (see {@link createRequireAdmin}). */
  readonly requireAdmin: onRequestHookHandler;
  /**
   * Requires `role`, after `requireJwt` (see {@link createRequireRole}).
   * @param role - a non-empty role name
   * @throws TypeError when `role` is not a non-empty string
   */
  requireRole(role: string): onRequestHookHandler;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `requireJwt`: `{ sub, owner, admin, roles }`. */
    user?: JwtUser;
  }
  interface FastifyInstance {
    /** Set by the `tesseraJwt` plugin. */
    tessera: TesseraGuards;
  }
}

function headersOf(request: FastifyRequest): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(request.headers)) {
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/**
 * The neutral request of a Fastify request (a string body from the route
 * plugins' parser is parsed here).
 * @param request - the Fastify request
 * @example `const answer = await handlers.token(toHttpRequest(request));`
 */
export function toHttpRequest(request: FastifyRequest): HttpRequest {
  const raw: unknown = request.body;
  const body = typeof raw === 'string' ? parseBody(request.headers['content-type'], raw) : raw;
  const host = request.host ?? request.headers.host ?? 'localhost';
  return {
    method: request.method,
    path: request.url.split('?')[0] as string,
    headers: headersOf(request),
    query: (request.query ?? {}) as HttpRequest['query'],
    params: (request.params ?? {}) as HttpRequest['params'],
    body,
    ip: request.ip,
    origin: `${request.protocol}://${host}`,
  };
}

/**
 * Write a neutral response (JSON body, or none).
 * @param reply - the Fastify reply
 * @param answer - the neutral response
 * @returns the reply, sent
 * @example `return sendHttpResponse(reply, { status: 204, headers: {} });`
 */
export function sendHttpResponse(reply: FastifyReply, answer: HttpResponse): FastifyReply {
  reply.code(answer.status);
  for (const [k, v] of Object.entries(answer.headers)) reply.header(k, v);
  if (answer.body === undefined) return reply.send();
  return reply.type('application/json; charset=utf-8').send(JSON.stringify(answer.body));
}

function installBodyParsing(fastify: FastifyInstance, logger: HttpLogger | undefined): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    '*',
    { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES },
    (_request, body, done) => {
      done(null, body);
    },
  );
  fastify.setErrorHandler((err, _request, reply) => {
    const status = (err as { statusCode?: unknown }).statusCode;
    if (status === 413) return sendHttpResponse(reply, seedError(413, 'Request body too large'));
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return sendHttpResponse(
        reply,
        seedError(status === 415 ? 415 : 400, 'Invalid request body', {
          details: 'Malformed request body',
        }),
      );
    }
    return sendHttpResponse(reply, internalError(err, logger));
  });
}

function mount<N extends string>(
  fastify: FastifyInstance,
  routes: readonly RouteSpec<N>[],
  handlers: Readonly<Record<N, Handler>>,
): void {
  for (const route of routes) {
    const handler = handlers[route.handler];
    fastify.route({
      method: route.method,
      url: route.path,
      handler: async (request, reply) =>
        sendHttpResponse(reply, await handler(toHttpRequest(request))),
    });
  }
}

/**
 * The auth routes as a plugin: `POST /token`, `GET /.well-known/jwks.json`,
 * `GET /.well-known/oauth-authorization-server`, `POST /introspect`, `POST /revoke`.
 *
 * Throttling is on by default only when `pat` exposes its store (`pat.store`);
 * otherwise the token endpoint is NOT throttled unless you pass
 * `throttle: { store }` (see {@link AuthHandlerOptions.throttle}).
 *
 * @param fastify - the encapsulated instance (given by `register`)
 * @param options - register options: {@link AuthHandlerOptions} (`pat`, `signerVerifier`, ...)
 *   plus Fastify's `prefix`
 * @throws TypeError (at register) for missing or bad options; RangeError for a bad throttle rule or `jwksMaxAgeSeconds`
 * @example
 * ```ts
 * await app.register(authRoutes, { prefix: '/auth', pat, signerVerifier, throttle: { store } });
 * ```
 */
export const authRoutes: FastifyPluginAsync<AuthHandlerOptions> = async (fastify, options) => {
  const handlers = createAuthHandlers(options);
  installBodyParsing(fastify, options.logger);
  mount(fastify, AUTH_ROUTES, handlers);
};

/**
 * The admin routes as a plugin (every route requires an admin JWT): `GET /tokens`,
 * `POST /tokens/batch`, `POST /tokens`, `PUT /tokens/:tokenId`,
 * `PATCH /tokens/:tokenId`, `PUT /tokens/:tokenId/revoke`, `PUT /tokens/:tokenId/restore`.
 *
 * @param fastify - the encapsulated instance (given by `register`)
 * @param options - register options: {@link AdminHandlerOptions} plus Fastify's `prefix`
 * @throws TypeError (at register) for missing options
 * @example
 * ```ts
 * await app.register(adminTokensRoutes, { prefix: '/admin', pat, signerVerifier });
 * ```
 */
export const adminTokensRoutes: FastifyPluginAsync<AdminHandlerOptions> = async (
  fastify,
  options,
) => {
  const handlers = createAdminHandlers(options);
  installBodyParsing(fastify, options.logger);
  mount(fastify, ADMIN_ROUTES, handlers);
};

/**
 * An `onRequest` hook that requires `Authorization: Bearer <jwt>` and sets
 * `request.user` (401 with the seed's bodies and `WWW-Authenticate` otherwise).
 *
 * @param options - `signerVerifier`; `realm`, `logger`
 * @example
 * ```ts
 * app.get('/api/data', { onRequest: createRequireJwt({ signerVerifier }) }, async (req) => req.user);
 * ```
 */
export function createRequireJwt(options: GuardOptions): onRequestHookHandler {
  const guard = createJwtGuard(options);
  return async (request, reply) => {
    const r = await guard.authenticate(request.headers.authorization);
    if (!r.ok) return sendHttpResponse(reply, r.response);
    request.user = r.user;
  };
}

/**
 * An `onRequest` hook that requires `request.user.admin` (after `requireJwt`).
 * @param options - `realm` (default `tessera`)
 * @example `app.get('/x', { onRequest: [requireJwt, createRequireAdmin()] }, handler);`
 */
export function createRequireAdmin(options: { realm?: string } = {}): onRequestHookHandler {
  return async (request, reply) => {
    const denied = adminAnswer(request.user, options.realm);
    if (denied) return sendHttpResponse(reply, denied);
  };
}

/**
 * An `onRequest` hook that requires `role` in `request.user.roles` (after `requireJwt`).
 * @param options - `role`; `realm` (default `tessera`)
 * @throws TypeError when `role` is not a non-empty string
 * @example `app.put('/content', { onRequest: [requireJwt, createRequireRole({ role: 'editor' })] }, handler);`
 */
export function createRequireRole(options: { role: string; realm?: string }): onRequestHookHandler {
  if (typeof options?.role !== 'string' || options.role === '') {
    throw new TypeError('role must be a non-empty string');
  }
  return async (request, reply) => {
    const denied = roleAnswer(request.user, options.role, options.realm);
    if (denied) return sendHttpResponse(reply, denied);
  };
}

/**
 * A fastify-plugin plugin (not encapsulated): decorates requests with `user`
 * and the instance with `tessera.requireJwt`, `tessera.requireAdmin` and
 * `tessera.requireRole(role)`.
 *
 * @param options - {@link GuardOptions}: `signerVerifier`; `realm`, `logger`
 * @example
 * ```ts
 * await app.register(tesseraJwt, { signerVerifier });
 * app.get('/api/admin', { onRequest: [app.tessera.requireJwt, app.tessera.requireAdmin] }, handler);
 * ```
 */
export const tesseraJwt = fp<GuardOptions>(
  async (fastify, options) => {
    if (!fastify.hasRequestDecorator('user')) fastify.decorateRequest('user', undefined);
    const realm = options.realm === undefined ? {} : { realm: options.realm };
    fastify.decorate('tessera', {
      requireJwt: createRequireJwt(options),
      requireAdmin: createRequireAdmin(realm),
      requireRole: (role: string) => createRequireRole({ role, ...realm }),
    });
  },
  { name: 'tessera-jwt', fastify: '5.x' },
);
