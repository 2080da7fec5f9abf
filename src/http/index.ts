/**
 * The framework-neutral HTTP layer under `tessera/express`, `tessera/fastify`
 * and `tessera/hono`: handlers that take a plain request and return a plain
 * response, the route tables, the JWT guard, and the native-module adapter.
 * Use it to serve the same routes from another framework.
 * @module
 */
export {
  type AdminHandlers,
  createAdminHandlers,
  DEFAULT_LIST_LIMIT,
  MAX_BATCH_IDS,
  MAX_LIST_LIMIT,
} from './admin-handlers.js';
export {
  type AuthHandlers,
  createAuthHandlers,
  type Handler,
  JWKS_PATH,
  METADATA_PATH,
} from './auth-handlers.js';
export {
  BODY_LIMIT_BYTES,
  type BodyRead,
  parseBody,
  RequestBodyError,
  type RequestBodyErrorCode,
  type RequestBodyFailure,
  readWebBody,
} from './body.js';
export {
  adminAnswer,
  createJwtGuard,
  type GuardResult,
  type JwtGuard,
  roleAnswer,
  userFromClaims,
} from './guard.js';
export {
  mintedLifetimeMs,
  type TokenUpdateFields,
  updateRevokesMinted,
} from './minted-jwts.js';
export { fromAccessTokens, type NativeAccessTokensLike } from './native-adapter.js';
export { type NodeBodyRead, readNodeBody } from './node-body.js';
export {
  DEFAULT_PER_IP_RULE,
  DEFAULT_PER_TOKEN_ID_RULE,
  DEFAULT_THROTTLE_COLLECTION,
} from './pat-gate.js';
export { ADMIN_ROUTES, AUTH_ROUTES, type RouteSpec } from './routes.js';
export {
  type AccessTokenMethods,
  type AdminHandlerOptions,
  type AuthHandlerOptions,
  type Caller,
  type GuardOptions,
  type HttpLogger,
  type HttpRequest,
  type HttpResponse,
  type JwtUser,
  MALFORMED_BODY,
  type PatRecord,
  type PatRolesUpdate,
  type PatThrottleOptions,
  type PatVerifyResult,
} from './types.js';
