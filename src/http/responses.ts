/**
 * Response builders: the seed's error bodies, RFC 6749 §5.2 error JSON, RFC
 * 6750 challenges, and the mapping from access-token errors to statuses.
 * @module
 */
import { isTesseraError } from '../core/errors.js';
import type { HttpLogger, HttpResponse } from './types.js';

/** Headers of every token-bearing or token-describing answer (RFC 6749 §5.1). */
export const NO_STORE: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  pragma: 'no-cache',
});

/**
 * A JSON answer.
 * @param status - HTTP status
 * @param body - the JSON body
 * @param headers - extra headers (lower-case names)
 * @example `json(200, { active: false }, NO_STORE)`
 */
export function json(
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): HttpResponse {
  return { status, headers, body };
}

/**
 * An answer without a body (204, or 200 for RFC 7009).
 * @param status - HTTP status
 * @param headers - extra headers (lower-case names)
 * @example `empty(204)`
 */
export function empty(
  status: number,
  headers: Readonly<Record<string, string>> = {},
): HttpResponse {
  return { status, headers };
}

/**
 * The seed's error body: `{ error: { message, ...extra } }`.
 * @param status - HTTP status
 * @param message - the seed's message
 * @param extra - more members of `error` (`details`, `code`)
 * @param headers - extra headers (lower-case names)
 * @example `seedError(404, 'Token not found')`
 */
export function seedError(
  status: number,
  message: string,
  extra: Readonly<Record<string, unknown>> = {},
  headers: Readonly<Record<string, string>> = {},
): HttpResponse {
  return json(status, { error: { message, ...extra } }, headers);
}

/**
 * An RFC 6749 §5.2 error: `{ error, error_description }`, never cached.
 * @param status - HTTP status
 * @param error - the RFC 6749 error code
 * @param description - `error_description` (ASCII, no `"` or `\`)
 * @param headers - extra headers (lower-case names)
 * @example `oauthError(400, 'unsupported_grant_type', 'Only client_credentials is supported')`
 */
export function oauthError(
  status: number,
  error: string,
  description: string,
  headers: Readonly<Record<string, string>> = {},
): HttpResponse {
  return json(status, { error, error_description: description }, { ...NO_STORE, ...headers });
}

/**
 * The RFC 6749 answer to a throttled client authentication: 429 with
 * `Retry-After` and `error: "invalid_request"`, never cached.
 *
 * RFC 6749 §5.2 has no code for throttling (`slow_down` belongs to the RFC
 * 8628 device flow). Of the two candidates, `invalid_client` means "client
 * authentication failed" and obliges a 401 with `WWW-Authenticate` when the
 * client used the `Authorization` header; it would tell a client holding the
 * right secret that its secret is wrong, and some clients drop or rotate
 * credentials on it. `invalid_request` ("the request ... is otherwise
 * malformed": here, refused as sent) says nothing about the secret, and its
 * default status (400 "unless specified otherwise") is the one replaced by
 * the more precise 429 of RFC 6585, whose `Retry-After` tells the client when
 * to try again.
 *
 * @param retryAfterSeconds - whole seconds until a retry may succeed (>= 1)
 * @example `return oauthThrottled(42); // 429 { error: 'invalid_request', ... }, Retry-After: 42`
 */
export function oauthThrottled(retryAfterSeconds: number): HttpResponse {
  return oauthError(
    429,
    'invalid_request',
    `Too many attempts; retry after ${retryAfterSeconds} s`,
    { 'retry-after': String(retryAfterSeconds) },
  );
}

function quote(v: string): string {
  return `"${v.replace(/[\\"]/g, '\\$&').replace(/[^\x20-\x7e]/g, '?')}"`;
}

/**
 * An RFC 6750 §3 `WWW-Authenticate: Bearer` challenge. Without `error` it is
 * the bare challenge for a request that carried no credentials.
 * @param realm - the realm
 * @param error - RFC 6750 §3.1 error code
 * @param description - `error_description`
 * @param scope - the scope needed (`insufficient_scope`)
 * @example `bearerChallenge('tessera', 'invalid_token', 'The token expired') // 'Bearer realm="tessera", error="invalid_token", ...'`
 */
export function bearerChallenge(
  realm: string,
  error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope',
  description?: string,
  scope?: string,
): string {
  let out = `Bearer realm=${quote(realm)}`;
  if (error) out += `, error=${quote(error)}`;
  if (description) out += `, error_description=${quote(description)}`;
  if (scope) out += `, scope=${quote(scope)}`;
  return out;
}

/**
 * A `WWW-Authenticate: Basic` challenge (RFC 7617), for client authentication failures.
 * @param realm - the realm
 * @example `basicChallenge('tessera') // 'Basic realm="tessera", charset="UTF-8"'`
 */
export function basicChallenge(realm: string): string {
  return `Basic realm=${quote(realm)}, charset="UTF-8"`;
}

/** What kind of failure an access-token method reported. */
export type PatErrorKind = 'not_found' | 'exists' | 'invalid' | 'other';

/**
 * Classify an error from an access-token method: Tessera codes (native
 * module, or the facade's `cause`, up to 3 levels) and the seed's messages.
 * @param err - what the method threw
 * @example `classifyPatError(new Error('Token not found: abc')) // 'not_found'`
 */
export function classifyPatError(err: unknown): PatErrorKind {
  for (let e: unknown = err, depth = 0; e != null && depth < 3; depth++) {
    if (isTesseraError(e, 'ERR_TESSERA_NOT_FOUND')) return 'not_found';
    if (isTesseraError(e, 'ERR_TESSERA_ALREADY_EXISTS')) return 'exists';
    if (isTesseraError(e, 'ERR_TESSERA_INVALID_INPUT')) return 'invalid';
    const message = e instanceof Error ? e.message : '';
    if (message.startsWith('Token not found')) return 'not_found';
    if (message.startsWith('Token ID already exists')) return 'exists';
    if (
      message.startsWith('Invalid secret PHC string') ||
      message.startsWith('Cannot store invalid token record')
    ) {
      return 'invalid';
    }
    e = (e as { cause?: unknown }).cause;
  }
  return 'other';
}

/**
 * The seed-shaped answer for an error thrown by an access-token method: 404,
 * 409, 400, or (anything else) {@link internalError}.
 * @param err - what the method threw
 * @param logger - where unexpected errors are logged
 * @example `catch (err) { return patErrorAnswer(err, logger); }`
 */
export function patErrorAnswer(err: unknown, logger: HttpLogger | undefined): HttpResponse {
  switch (classifyPatError(err)) {
    case 'not_found':
      return seedError(404, 'Token not found');
    case 'exists':
      return seedError(409, 'Token ID already exists');
    case 'invalid':
      return seedError(400, 'Invalid request body', {
        details: err instanceof Error ? err.message : 'Invalid input',
      });
    default:
      return internalError(err, logger);
  }
}

/**
 * 500 with a generic message, or 503 with `Retry-After: 1` for
 * `ERR_TESSERA_STORE_UNAVAILABLE`; the error goes to the logger, never to the client.
 * @param err - the unexpected error
 * @param logger - where it is logged
 * @example `catch (err) { return internalError(err, logger); }`
 */
export function internalError(err: unknown, logger: HttpLogger | undefined): HttpResponse {
  if (isTesseraError(err, 'ERR_TESSERA_STORE_UNAVAILABLE')) {
    logger?.error({ err }, 'tessera: store unavailable');
    return seedError(503, 'Service unavailable', {}, { 'retry-after': '1' });
  }
  logger?.error({ err }, 'tessera: unexpected error');
  return seedError(500, 'Internal server error');
}
