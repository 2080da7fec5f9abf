/**
 * Argument checks of the access-tokens module: one clear
 * `InvalidInputError` (`ERR_TESSERA_INVALID_INPUT`) per mistake. The limits
 * are the seed's schema: owner 1..100 characters, at most 50 roles of
 * 1..100 characters; Tessera also refuses control characters and lone
 * surrogates, which no store can index faithfully.
 * @module
 */

import { checkInt, checkOptionalBoolean } from '../core/checks.js';
import { InvalidInputError } from '../core/errors.js';
import { isTokenId } from './format.js';

export { checkInt, checkOptionalBoolean };

/** Check that an input is an object. */
export function checkObject(value: unknown, what: string): asserts value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(`${what} must be an object`, what);
  }
}

/** Most roles one token holds. */
export const MAX_ROLES = 50;
/** Longest role name. */
export const MAX_ROLE_LENGTH = 100;
/** Longest owner. */
export const MAX_OWNER_LENGTH = 100;

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL_RE = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether `value` is a 1..`max` character string without control characters or lone surrogates. */
export function isCleanString(value: unknown, max: number): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= max &&
    !CONTROL_RE.test(value) &&
    !LONE_SURROGATE_RE.test(value)
  );
}

/** Check a token id (21 base62 characters). */
export function checkTokenId(value: unknown, field = 'tokenId'): asserts value is string {
  if (!isTokenId(value)) {
    throw new InvalidInputError(`${field} must be 21 characters of A-Za-z0-9`, field);
  }
}

/** Check an owner. */
export function checkOwner(value: unknown, field = 'owner'): asserts value is string {
  if (!isCleanString(value, MAX_OWNER_LENGTH)) {
    throw new InvalidInputError(
      `${field} must be a string of 1..${MAX_OWNER_LENGTH} characters without control characters`,
      field,
    );
  }
}

/** Check one role name. */
export function checkRole(value: unknown, field = 'role'): asserts value is string {
  if (!isCleanString(value, MAX_ROLE_LENGTH)) {
    throw new InvalidInputError(
      `${field} must be a string of 1..${MAX_ROLE_LENGTH} characters without control characters`,
      field,
    );
  }
}

/**
 * Check a list of roles and return it without duplicates (first occurrence
 * kept). At most {@link MAX_ROLES} distinct roles.
 */
export function normalizeRoles(value: unknown, field = 'roles'): string[] {
  if (!Array.isArray(value)) throw new InvalidInputError(`${field} must be an array`, field);
  const out: string[] = [];
  for (const role of value) {
    checkRole(role, field);
    if (!out.includes(role)) out.push(role);
  }
  checkRoleCount(out.length, field);
  return out;
}

/** Check a role count. */
export function checkRoleCount(count: number, field = 'roles'): void {
  if (count > MAX_ROLES) {
    throw new InvalidInputError(`a token holds at most ${MAX_ROLES} roles`, field);
  }
}

/** Latest time a Date can hold, ms since epoch. */
export const MAX_TIME = 8_640_000_000_000_000;

/** Check a time in ms since epoch (0..{@link MAX_TIME}). */
export function checkTime(value: unknown, field: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > MAX_TIME) {
    throw new InvalidInputError(`${field} must be an integer time in ms since epoch`, field);
  }
}

/** Check an optional expiry: undefined, null or a time in ms. */
export function checkOptionalExpiry(
  value: unknown,
  field = 'expiresAt',
): asserts value is number | null | undefined {
  if (value === undefined || value === null) return;
  checkTime(value, field);
}
