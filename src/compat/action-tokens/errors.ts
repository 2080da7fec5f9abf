/**
 * The error classes of @beesolve/action-tokens, with its messages. Unlike the
 * original, each sets `name` to its class name.
 * @module
 */

/** Base of every facade error (the seed's `BaseTokenError`). */
export class BaseTokenError extends Error {
  /** Whether the constructor argument was not a string and was JSON-stringified. */
  readonly stringified: boolean;
  /**
   * @param message - a string, or anything else (JSON-stringified, as the seed does)
   */
  constructor(message: unknown) {
    const stringified = typeof message !== 'string';
    super(stringified ? JSON.stringify(message) : (message as string));
    this.stringified = stringified;
    this.name = new.target.name;
  }
}

/** "Token not found." */
export class TokenDoesNotExistError extends BaseTokenError {}
/** "Token already exists." */
export class TokenAlreadyExistsError extends BaseTokenError {}
/** "Token has expired." */
export class ExpiredTokenError extends BaseTokenError {}
/** "Token cannot be used anymore." */
export class TokenAlreadyUsedUpError extends BaseTokenError {}
/** "Token is invalid." */
export class TokenInvalidError extends BaseTokenError {}
/** "Malformed token." or the create-time schema message. */
export class MalformedTokenError extends BaseTokenError {}
/** Unexpected state. */
export class UnexpectedError extends BaseTokenError {}
/** "Too many requests. Try again later." */
export class TokenThrottledError extends BaseTokenError {
  /** Whole seconds until a retry may succeed (Tessera addition). */
  readonly retryAfterSeconds: number;
  constructor(message: unknown, retryAfterSeconds = 1) {
    super(message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
