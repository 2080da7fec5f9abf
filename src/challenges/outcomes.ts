/**
 * Failure reasons of the challenges module and the typed errors they become.
 * @module
 */
import {
  ExpiredError,
  InvalidInputError,
  InvalidValueError,
  LockedError,
  NotFoundError,
  SealInvalidError,
  type TesseraError,
  UsedUpError,
} from '../core/errors.js';
import type { VerifyFailureReason } from './types.js';

/**
 * The error `verify`/`info` throw for a failure reason.
 *
 * @param reason - why the attempt failed
 * @param retryAfterSeconds - for `locked`: whole seconds until the budget resets
 * @returns NotFoundError, ExpiredError, InvalidValueError, UsedUpError, LockedError,
 *   SealInvalidError or InvalidInputError (`secret_required`, field `token`)
 * @example `throw reasonToError('locked', 900) // LockedError, retryAfterSeconds 900`
 */
export function reasonToError(
  reason: VerifyFailureReason,
  retryAfterSeconds?: number,
): TesseraError {
  switch (reason) {
    case 'not_found':
      return new NotFoundError('Challenge not found.');
    case 'expired':
      return new ExpiredError('Challenge has expired.');
    case 'invalid_value':
      return new InvalidValueError('Invalid challenge secret.');
    case 'used_up':
      return new UsedUpError('Too many wrong secrets for this challenge; create a new one.');
    case 'locked':
      return new LockedError(retryAfterSeconds ?? 1, 'Too many wrong secrets. Try again later.');
    case 'invalid_token':
      return new SealInvalidError('Invalid challenge token.');
    case 'control_mismatch':
      return new InvalidValueError('The token was issued for another action or id.');
    default:
      return new InvalidInputError('This challenge has a secret: pass it as token.', 'token');
  }
}
