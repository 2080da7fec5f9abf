/**
 * What the facade returns and throws: ms-token's response hash (without its
 * internal key names) and its error vocabulary (`'404'`, `'409'`, `'429'`
 * with `reason.ttl`, `'invalid token'`, `ValidationError`).
 * @module
 */
import type {
  Challenge,
  ResolvedSecretSettings,
  VerifyFailureReason,
} from '../../challenges/types.js';
import { isTesseraError } from '../../core/errors.js';
import type { Json } from '../../stores/contract.js';
import { ValidationError } from './validation.js';

/** What `create` resolves to. */
export interface CreatedToken {
  id: string;
  action: string;
  /** Present when created with `regenerate: true`. */
  uid?: string;
  /** The sealed token or the plain secret; absent with `secret: false`. */
  secret?: string;
}

/** What `info` and `verify` resolve to (ms-token's typed hash, without internal key names). */
export interface TokenResponse {
  id: string;
  action: string;
  /** The uid, or `''` without one. */
  uid: string;
  /**
   * The plain secret: in `verify`, and in `info` by token; `''` for a
   * `secret: false` challenge; absent otherwise (only a digest is stored).
   */
  secret?: string;
  /** Creation time, ms since epoch. */
  created: number;
  /** Secret settings, or `false`. */
  settings: ResolvedSecretSettings | false;
  /** The metadata (`{}` when none was given). */
  metadata: Json;
  /** First verification time, ms since epoch, once verified. */
  verified?: number;
  /** In `verify`: whether this call was the first successful verification. */
  isFirstVerification?: boolean;
}

/** An ms-token error: `message` is `'404'`, `'409'` or `'429'`. */
export interface TokenManagerError extends Error {
  /** With `'429'`: `ttl` is the whole seconds until a retry may succeed. */
  reason?: { ttl: number };
  /** On `verify` errors: the decoded arguments `{ id, action, token }` (non-enumerable). */
  args?: { id: string; action: string; token?: string };
}

/**
 * ms-token's status errors: `Error('404')`, `Error('409')`, `Error('429')` (with `reason.ttl`).
 * @param cause - the Tessera error or failure reason behind it (kept as `cause`)
 * @example `throw httpError('429', err, 60) // err.reason = { ttl: 60 }`
 */
export function httpError(message: '404' | '409' | '429', cause: unknown, ttl?: number): Error {
  const err = new Error(message, { cause }) as TokenManagerError;
  if (ttl !== undefined) err.reason = { ttl };
  return err;
}

/**
 * The ms-token error for a failed verification: `'429'` when locked, `'invalid token'`,
 * `"token" is required`, else `'404'`.
 * @example `throw fromReason('invalid_value') // Error('404')`
 */
export function fromReason(reason: VerifyFailureReason, retryAfterSeconds?: number): Error {
  switch (reason) {
    case 'locked':
      return httpError('429', reason, retryAfterSeconds ?? 1);
    case 'invalid_token':
      return new Error('invalid token');
    case 'secret_required':
      return new ValidationError('"token" is required', ['token'], 'any.required');
    default:
      return httpError('404', reason);
  }
}

/**
 * Translate a Tessera error to ms-token's vocabulary (other errors pass through).
 * @example `catch (err) { throw translate(err); }`
 */
export function translate(err: unknown): unknown {
  if (!isTesseraError(err)) return err;
  switch (err.code) {
    case 'ERR_TESSERA_NOT_FOUND':
    case 'ERR_TESSERA_EXPIRED':
    case 'ERR_TESSERA_INVALID_VALUE':
    case 'ERR_TESSERA_USED_UP':
      return httpError('404', err);
    case 'ERR_TESSERA_CONFLICT':
      return httpError('409', err);
    case 'ERR_TESSERA_THROTTLED':
    case 'ERR_TESSERA_LOCKED':
      return httpError(
        '429',
        err,
        (err as unknown as { retryAfterSeconds: number }).retryAfterSeconds,
      );
    case 'ERR_TESSERA_SEAL_INVALID':
      return new Error('invalid token', { cause: err });
    case 'ERR_TESSERA_INVALID_INPUT': {
      const field = (err as unknown as { field?: string }).field;
      if (field === 'token') {
        return new ValidationError('"token" is required', ['token'], 'any.required');
      }
      return new ValidationError(err.message, field === undefined ? [] : field.split('.'));
    }
    default:
      return err;
  }
}

/**
 * ms-token's response hash for a challenge.
 *
 * @param c - the challenge
 * @param secret - the plain secret, when the caller presented it (else omitted)
 * @param isFirstVerification - set by `verify` only
 * @example `toResponse(challenge, presented, true).isFirstVerification // true`
 */
export function toResponse(
  c: Challenge,
  secret: string | undefined,
  isFirstVerification?: boolean,
): TokenResponse {
  const known = c.settings === false ? '' : secret;
  return {
    id: c.id,
    action: c.action,
    uid: c.uid ?? '',
    ...(known === undefined ? {} : { secret: known }),
    created: c.createdAt,
    settings: c.settings === false ? false : { ...c.settings },
    metadata: c.metadata === undefined ? {} : c.metadata,
    ...(c.verifiedAt === null ? {} : { verified: c.verifiedAt }),
    ...(isFirstVerification === undefined ? {} : { isFirstVerification }),
  };
}
