/**
 * Error classes with stable codes. Every error Tessera throws on purpose is a
 * {@link TesseraError} with a `code` from {@link TesseraErrorCode} and a `name`
 * equal to its class name, so callers can branch on `err.code` even when two
 * copies of the package are loaded (where `instanceof` breaks).
 *
 * @example
 * ```ts
 * try { await tokens.use({ owner, action, value }); }
 * catch (err) { if (isTesseraError(err, 'ERR_TESSERA_EXPIRED')) { ... } }
 * ```
 * @module
 */

/** Every stable error code Tessera uses. */
export type TesseraErrorCode =
  | 'ERR_TESSERA_INVALID_INPUT'
  | 'ERR_TESSERA_CONFIG'
  | 'ERR_TESSERA_NOT_FOUND'
  | 'ERR_TESSERA_ALREADY_EXISTS'
  | 'ERR_TESSERA_EXPIRED'
  | 'ERR_TESSERA_USED_UP'
  | 'ERR_TESSERA_INVALID_VALUE'
  | 'ERR_TESSERA_REVOKED'
  | 'ERR_TESSERA_THROTTLED'
  | 'ERR_TESSERA_LOCKED'
  | 'ERR_TESSERA_CONFLICT'
  | 'ERR_TESSERA_SEAL_INVALID'
  | 'ERR_TESSERA_KEY_NOT_FOUND'
  | 'ERR_TESSERA_MALFORMED_RECORD'
  | 'ERR_TESSERA_UNAUTHORIZED'
  | 'ERR_TESSERA_FORBIDDEN'
  | 'ERR_TESSERA_STORE_UNAVAILABLE'
  | 'ERR_TESSERA_STORE'
  | 'ERR_TESSERA_BODY_TOO_LARGE'
  | 'ERR_TESSERA_BODY_ABORTED'
  | 'ERR_TESSERA_UNSUPPORTED_MEDIA_TYPE';

/** Base class of every error Tessera throws on purpose. */
export class TesseraError extends Error {
  /** Stable machine-readable code. */
  readonly code: TesseraErrorCode;

  /**
   * @param code - stable code of the error
   * @param message - human-readable message (never contains a secret)
   * @param options - standard `ErrorOptions` (`cause`)
   */
  constructor(code: TesseraErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** An argument does not have the documented shape or range. */
export class InvalidInputError extends TesseraError {
  /** Dotted path of the offending field, when known. */
  readonly field: string | undefined;
  /**
   * @param message - what is wrong
   * @param field - the offending field
   */
  constructor(message: string, field?: string, options?: ErrorOptions) {
    super('ERR_TESSERA_INVALID_INPUT', message, options);
    this.field = field;
  }
}

/** Configuration is missing or invalid. */
export class ConfigError extends TesseraError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_TESSERA_CONFIG', message, options);
  }
}

/** The record does not exist (or is no longer live). */
export class NotFoundError extends TesseraError {
  constructor(message = 'Not found.', options?: ErrorOptions) {
    super('ERR_TESSERA_NOT_FOUND', message, options);
  }
}

/** A live record with the same key exists. */
export class AlreadyExistsError extends TesseraError {
  constructor(message = 'Already exists.', options?: ErrorOptions) {
    super('ERR_TESSERA_ALREADY_EXISTS', message, options);
  }
}

/** The credential has passed its expiry. */
export class ExpiredError extends TesseraError {
  constructor(message = 'Expired.', options?: ErrorOptions) {
    super('ERR_TESSERA_EXPIRED', message, options);
  }
}

/** The credential has no uses left. */
export class UsedUpError extends TesseraError {
  constructor(message = 'No uses left.', options?: ErrorOptions) {
    super('ERR_TESSERA_USED_UP', message, options);
  }
}

/** The presented value does not match the credential. */
export class InvalidValueError extends TesseraError {
  constructor(message = 'Invalid value.', options?: ErrorOptions) {
    super('ERR_TESSERA_INVALID_VALUE', message, options);
  }
}

/** The credential has been revoked. */
export class RevokedError extends TesseraError {
  constructor(message = 'Revoked.', options?: ErrorOptions) {
    super('ERR_TESSERA_REVOKED', message, options);
  }
}

/** A rate limit or throttle window blocks the operation. */
export class ThrottledError extends TesseraError {
  /** Whole seconds until the operation may succeed (>= 1). */
  readonly retryAfterSeconds: number;
  /**
   * @param retryAfterSeconds - whole seconds until a retry may succeed
   */
  constructor(retryAfterSeconds: number, message = 'Too many requests.', options?: ErrorOptions) {
    super('ERR_TESSERA_THROTTLED', message, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The attempt budget is spent: no further guesses are accepted for a while. */
export class LockedError extends TesseraError {
  /** Whole seconds until the budget resets (>= 1). */
  readonly retryAfterSeconds: number;
  constructor(
    retryAfterSeconds: number,
    message = 'Too many failed attempts.',
    options?: ErrorOptions,
  ) {
    super('ERR_TESSERA_LOCKED', message, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Optimistic concurrency gave up after its retry budget. */
export class ConflictError extends TesseraError {
  constructor(message = 'Concurrent modification; retry.', options?: ErrorOptions) {
    super('ERR_TESSERA_CONFLICT', message, options);
  }
}

/** A sealed (encrypted) value failed to open: wrong key, tampered or malformed. */
export class SealInvalidError extends TesseraError {
  constructor(message = 'Sealed value is invalid.', options?: ErrorOptions) {
    super('ERR_TESSERA_SEAL_INVALID', message, options);
  }
}

/** No key with the requested key id is configured. */
export class KeyNotFoundError extends TesseraError {
  constructor(message = 'Key not found.', options?: ErrorOptions) {
    super('ERR_TESSERA_KEY_NOT_FOUND', message, options);
  }
}

/** A stored record does not have the shape its module writes. */
export class MalformedRecordError extends TesseraError {
  constructor(message = 'Malformed record.', options?: ErrorOptions) {
    super('ERR_TESSERA_MALFORMED_RECORD', message, options);
  }
}

/** The caller is not authenticated. */
export class UnauthorizedError extends TesseraError {
  constructor(message = 'Unauthorized.', options?: ErrorOptions) {
    super('ERR_TESSERA_UNAUTHORIZED', message, options);
  }
}

/** The caller is authenticated but lacks the required role. */
export class ForbiddenError extends TesseraError {
  constructor(message = 'Forbidden.', options?: ErrorOptions) {
    super('ERR_TESSERA_FORBIDDEN', message, options);
  }
}

/** The backend cannot be reached (connection refused, timeout, server down). Fail closed. */
export class StoreUnavailableError extends TesseraError {
  constructor(message = 'Store unavailable.', options?: ErrorOptions) {
    super('ERR_TESSERA_STORE_UNAVAILABLE', message, options);
  }
}

/** The backend answered with an unexpected failure. Fail closed. */
export class StoreError extends TesseraError {
  constructor(message = 'Store error.', options?: ErrorOptions) {
    super('ERR_TESSERA_STORE', message, options);
  }
}

/**
 * Whether `err` is a Tessera error, optionally with a given code. Works across
 * duplicated module copies (checks `code`, not `instanceof`).
 *
 * @param err - anything caught
 * @param code - the code to match; any Tessera code when omitted
 * @example `if (isTesseraError(e, 'ERR_TESSERA_THROTTLED')) res.setHeader('Retry-After', e.retryAfterSeconds)`
 */
export function isTesseraError<C extends TesseraErrorCode>(
  err: unknown,
  code?: C,
): err is TesseraError & { code: C } {
  if (typeof err !== 'object' || err === null) return false;
  const c = (err as { code?: unknown }).code;
  if (typeof c !== 'string' || !c.startsWith('ERR_TESSERA_')) return false;
  return code === undefined || c === code;
}
