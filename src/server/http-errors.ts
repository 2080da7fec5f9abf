/**
 * One mapping from errors to HTTP answers, so every route reports failures
 * the same way: `{ "error": { "code", "message" } }` with a stable code.
 * Unexpected errors answer 500 with a generic message (the details go to the
 * log, never to the client).
 * @module
 */
import { isTesseraError } from '../core/errors.js';

/** An HTTP answer for an error. */
export interface ErrorAnswer {
  readonly status: number;
  readonly body: { error: { code: string; message: string; field?: string } };
  readonly headers: Record<string, string>;
}

const STATUS: Record<string, number> = {
  ERR_TESSERA_INVALID_INPUT: 400,
  ERR_TESSERA_UNAUTHORIZED: 401,
  ERR_TESSERA_FORBIDDEN: 403,
  ERR_TESSERA_NOT_FOUND: 404,
  ERR_TESSERA_ALREADY_EXISTS: 409,
  ERR_TESSERA_CONFLICT: 409,
  ERR_TESSERA_THROTTLED: 429,
  ERR_TESSERA_LOCKED: 429,
  ERR_TESSERA_STORE_UNAVAILABLE: 503,
};

/** Map any thrown value to an HTTP answer. */
export function errorAnswer(err: unknown): ErrorAnswer {
  if (isTesseraError(err) && STATUS[err.code] !== undefined) {
    const headers: Record<string, string> = {};
    const retry = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    if (typeof retry === 'number') headers['retry-after'] = String(retry);
    if (err.code === 'ERR_TESSERA_UNAUTHORIZED')
      headers['www-authenticate'] = 'Bearer realm="tessera"';
    if (err.code === 'ERR_TESSERA_STORE_UNAVAILABLE') headers['retry-after'] = '1';
    const field = (err as { field?: unknown }).field;
    return {
      status: STATUS[err.code] as number,
      headers,
      body: {
        error: {
          code: err.code,
          message: err.message,
          ...(typeof field === 'string' ? { field } : {}),
        },
      },
    };
  }
  return {
    status: 500,
    headers: {},
    body: { error: { code: 'ERR_TESSERA_INTERNAL', message: 'Internal error.' } },
  };
}
