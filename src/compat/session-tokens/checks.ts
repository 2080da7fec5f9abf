/**
 * Argument checks of the session_tokens facade. A caller mistake (an amount
 * that is not a number, an owner that is not a name, a timeout out of range)
 * throws `InvalidInputError` naming the seed's argument; it never turns into
 * the seed's `false` ("no such token"), which stays for tokens and sessions
 * that are unknown, not live, or not the caller's.
 * @module
 */
import { checkName } from '../../core/checks.js';
import { InvalidInputError } from '../../core/errors.js';
import { MAX_TIMEOUT_MS, MIN_TOKEN_LENGTH } from '../../sessions/index.js';

/** Longest token accepted (as the native module). */
const MAX_TOKEN_LENGTH = 1024;

/**
 * Whether a value can name a token or session token at all (a string of
 * 22..1024 characters). Anything else names nothing: lookups answer as for an
 * unknown token.
 */
export function isTokenString(v: unknown): v is string {
  return typeof v === 'string' && v.length >= MIN_TOKEN_LENGTH && v.length <= MAX_TOKEN_LENGTH;
}

/**
 * Check a token the caller creates something under.
 * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) naming `field`
 */
export function checkTokenArg(v: unknown, field: string): asserts v is string {
  if (!isTokenString(v)) {
    throw new InvalidInputError(
      `${field} must be a string of ${MIN_TOKEN_LENGTH}..${MAX_TOKEN_LENGTH} characters (tokens are looked up by value alone)`,
      field,
    );
  }
}

/**
 * Check an owner (ownership key): 1..256 characters of text without control characters.
 * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) naming `field`
 */
export function checkOwnerArg(v: unknown, field: string): asserts v is string {
  checkName(v, field);
}

/**
 * Whether a value can be anybody's owner at all (what {@link checkOwnerArg}
 * accepts). Anything else owns nothing: ownership checks answer `false`.
 */
export function isOwnerString(v: unknown): v is string {
  try {
    checkName(v, 'owner');
    return true;
  } catch {
    return false;
  }
}

/**
 * Check an amount: a finite number (positive or negative).
 * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) naming `field`
 */
export function checkAmountArg(v: unknown, field: string): asserts v is number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new InvalidInputError(`${field} must be a finite number`, field);
  }
}

/**
 * Check a duration argument in ms: an integer in 1..{@link MAX_TIMEOUT_MS},
 * or `Infinity` for never when `never` allows it.
 * @returns the ms, or `null` for never
 * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) naming `field`
 */
export function timeoutArg(v: unknown, field: string, never = true): number | null {
  if (never && v === Number.POSITIVE_INFINITY) return null;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > MAX_TIMEOUT_MS) {
    throw new InvalidInputError(
      `${field} must be an integer number of ms in 1..${MAX_TIMEOUT_MS}${never ? ', or Infinity for never' : ''}`,
      field,
    );
  }
  return v;
}
