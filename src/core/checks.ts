/**
 * Argument checks shared by the domain modules: each throws one clear
 * `InvalidInputError` naming the offending field.
 * @module
 */
import { InvalidInputError } from './errors.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL_RE = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Check that an input is a plain object (not null, not an array).
 * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`)
 * @example `checkObject(input, 'input');`
 */
export function checkObject(
  value: unknown,
  what: string,
): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(`${what} must be an object`, what);
  }
}

/**
 * Check a name-like string (owner, action, id): 1..`max` characters of
 * well-formed text without control characters.
 * @param max - longest allowed length in UTF-16 units (default 256)
 * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`)
 * @example `checkName(input.owner, 'owner');`
 */
export function checkName(value: unknown, field: string, max = 256): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new InvalidInputError(`${field} must be a string of 1..${max} characters`, field);
  }
  if (CONTROL_RE.test(value) || LONE_SURROGATE_RE.test(value)) {
    throw new InvalidInputError(
      `${field} must be well-formed text without control characters`,
      field,
    );
  }
}

/**
 * Check an integer in `min..max`.
 * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`)
 * @example `checkInt(input.remainingUses, 'remainingUses', 1, 1_000_000);`
 */
export function checkInt(
  value: unknown,
  field: string,
  min: number,
  max: number,
): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidInputError(`${field} must be an integer in ${min}..${max}`, field);
  }
}

/**
 * Check an optional boolean.
 * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`)
 * @example `checkOptionalBoolean(input.overwrite, 'overwrite');`
 */
export function checkOptionalBoolean(
  value: unknown,
  field: string,
): asserts value is boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new InvalidInputError(`${field} must be a boolean`, field);
  }
}
