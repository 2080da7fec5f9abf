/**
 * The route tables every adapter registers, so Express, Fastify and Hono
 * serve the same paths with the same handlers.
 * @module
 */
import type { AdminHandlers } from './admin-handlers.js';
import { type AuthHandlers, JWKS_PATH, METADATA_PATH } from './auth-handlers.js';

/** One route: method, path below the mount point (`:tokenId` is a parameter), handler name. */
export interface RouteSpec<Name extends string> {
  /** HTTP method. */
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH';
  /** Path below the mount point, in the syntax every framework shares (`/tokens/:tokenId`). */
  readonly path: string;
  /** Name of the handler that serves it. */
  readonly handler: Name;
}

/** Routes of the auth router (`createAuthRouter` and friends). */
export const AUTH_ROUTES: readonly RouteSpec<keyof AuthHandlers>[] = Object.freeze([
  { method: 'POST', path: '/token', handler: 'token' },
  { method: 'POST', path: '/introspect', handler: 'introspect' },
  { method: 'POST', path: '/revoke', handler: 'revoke' },
  { method: 'GET', path: JWKS_PATH, handler: 'jwks' },
  { method: 'GET', path: METADATA_PATH, handler: 'metadata' },
]);

/** Routes of the admin router (`createAdminTokensRouter` and friends). */
export const ADMIN_ROUTES: readonly RouteSpec<keyof AdminHandlers>[] = Object.freeze([
  { method: 'GET', path: '/tokens', handler: 'list' },
  { method: 'POST', path: '/tokens/batch', handler: 'batch' },
  { method: 'POST', path: '/tokens', handler: 'issue' },
  { method: 'PUT', path: '/tokens/:tokenId', handler: 'register' },
  { method: 'PATCH', path: '/tokens/:tokenId', handler: 'update' },
  { method: 'PUT', path: '/tokens/:tokenId/revoke', handler: 'revoke' },
  { method: 'PUT', path: '/tokens/:tokenId/restore', handler: 'restore' },
]);
