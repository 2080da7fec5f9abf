/**
 * One mapping from errors to HTTP answers, so every route reports failures
 * the same way: `{ "error": { "code", "message", "field"? } }` with a stable
 * code. Unexpected errors answer 500 with a generic message (the details go to
 * the log, never to the client).
 * @module
 */
import { ForbiddenError, isTesseraError } from '../core/errors.js';

/**
 * Codes the service's HTTP layer raises itself (beside the `TesseraErrorCode`s
 * of the core, which include the body codes of `RequestBodyError`).
 */
export type HttpOnlyErrorCode =
  | 'ERR_TESSERA_UNSUPPORTED_MEDIA_TYPE'
  | 'ERR_TESSERA_NO_ROUTE'
  | 'ERR_TESSERA_NOT_READY'
  | 'ERR_TESSERA_INTERNAL';

/** Every error code an HTTP answer of the service can carry, with its status. */
export const HTTP_ERROR_STATUS: Readonly<Record<string, number>> = {
  ERR_TESSERA_INVALID_INPUT: 400,
  ERR_TESSERA_BODY_ABORTED: 400,
  ERR_TESSERA_UNAUTHORIZED: 401,
  ERR_TESSERA_FORBIDDEN: 403,
  ERR_TESSERA_NOT_FOUND: 404,
  ERR_TESSERA_NO_ROUTE: 404,
  ERR_TESSERA_ALREADY_EXISTS: 409,
  ERR_TESSERA_CONFLICT: 409,
  ERR_TESSERA_REVOKED: 409,
  ERR_TESSERA_BODY_TOO_LARGE: 413,
  ERR_TESSERA_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_TESSERA_THROTTLED: 429,
  ERR_TESSERA_LOCKED: 429,
  ERR_TESSERA_INTERNAL: 500,
  ERR_TESSERA_STORE_UNAVAILABLE: 503,
  ERR_TESSERA_STORE: 503,
  ERR_TESSERA_NOT_READY: 503,
};

/** Verification failures answered as a plain 404 (see {@link errorAnswer}). */
const CONCEALED = new Set<string>([
  'ERR_TESSERA_EXPIRED',
  'ERR_TESSERA_USED_UP',
  'ERR_TESSERA_INVALID_VALUE',
  'ERR_TESSERA_SEAL_INVALID',
  'ERR_TESSERA_KEY_NOT_FOUND',
]);

/** An error raised by the HTTP layer itself, with its status and code. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: HttpOnlyErrorCode;
  readonly headers: Record<string, string>;
  constructor(
    status: number,
    code: HttpOnlyErrorCode,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/**
 * A credential that authenticated but holds none of the roles a route needs
 * (`ERR_TESSERA_FORBIDDEN`); its answer names them in the RFC 6750 challenge.
 */
export class InsufficientScopeError extends ForbiddenError {
  /** The roles the route accepts (any one of them, or `tessera:admin`). */
  readonly scope: readonly string[];
  constructor(
    scope: readonly string[],
    message = 'The credential lacks the role this route needs.',
  ) {
    super(message);
    this.scope = scope;
  }
}

const REALM = 'realm="tessera"';

/** The RFC 6750 §3 challenge of a 403: `error="insufficient_scope"`, and the scope when known. */
function insufficientScope(err: unknown): string {
  const scope =
    err instanceof InsufficientScopeError && err.scope.length > 0
      ? `, scope="${err.scope.join(' ')}"`
      : '';
  return `Bearer ${REALM}, error="insufficient_scope", error_description="The credential lacks the role this route needs"${scope}`;
}

/** An HTTP answer for an error. */
export interface ErrorAnswer {
  readonly status: number;
  readonly body: { error: { code: string; message: string; field?: string } };
  readonly headers: Record<string, string>;
}

/** Build an error body. */
export function errorBody(code: string, message: string, field?: string): ErrorAnswer['body'] {
  return { error: { code, message, ...(field === undefined ? {} : { field }) } };
}

/** Map any thrown value to an HTTP answer. */
export function errorAnswer(err: unknown): ErrorAnswer {
  if (err instanceof HttpError) {
    return { status: err.status, headers: err.headers, body: errorBody(err.code, err.message) };
  }
  if (isTesseraError(err) && CONCEALED.has(err.code)) {
    // A failed match on a management route: say "not found", never why, so the
    // answer does not tell an existing token with a wrong value from none at all.
    return { status: 404, headers: {}, body: errorBody('ERR_TESSERA_NOT_FOUND', 'Not found.') };
  }
  if (isTesseraError(err) && HTTP_ERROR_STATUS[err.code] !== undefined) {
    const headers: Record<string, string> = {};
    const retry = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    if (typeof retry === 'number') headers['retry-after'] = String(retry);
    if (err.code === 'ERR_TESSERA_UNAUTHORIZED') headers['www-authenticate'] = `Bearer ${REALM}`;
    if (err.code === 'ERR_TESSERA_FORBIDDEN') headers['www-authenticate'] = insufficientScope(err);
    // The rest of the body is left unread: close rather than drain it.
    if (err.code === 'ERR_TESSERA_BODY_TOO_LARGE') headers.connection = 'close';
    if (err.code === 'ERR_TESSERA_STORE_UNAVAILABLE' || err.code === 'ERR_TESSERA_STORE') {
      // Store failures fail closed; the driver's message stays in the log.
      return {
        status: 503,
        headers: { 'retry-after': '1' },
        body: errorBody(err.code, 'The store is unavailable; retry later.'),
      };
    }
    const field = (err as { field?: unknown }).field;
    return {
      status: HTTP_ERROR_STATUS[err.code] as number,
      headers,
      body: errorBody(err.code, err.message, typeof field === 'string' ? field : undefined),
    };
  }
  return {
    status: 500,
    headers: {},
    body: errorBody('ERR_TESSERA_INTERNAL', 'Internal error.'),
  };
}
