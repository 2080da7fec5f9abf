/**
 * Argument checks of the action-tokens module (one clear `InvalidInputError`
 * per mistake).
 * @module
 */
import { InvalidInputError } from '../core/errors.js';
import type { JsonObject } from '../stores/contract.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

/** Check a name-like string (owner, action, throttle id). */
export function checkName(value: unknown, field: string, max = 256): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new InvalidInputError(`${field} must be a string of 1..${max} characters`, field);
  }
  if (CONTROL_RE.test(value))
    throw new InvalidInputError(`${field} must not contain control characters`, field);
}

/** Check a presented or supplied value. */
export function checkValue(value: unknown, field = 'value'): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024) {
    throw new InvalidInputError(`${field} must be a string of 1..1024 characters`, field);
  }
}

/** Check an integer in a range. */
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

/** Check an optional boolean. */
export function checkOptionalBoolean(
  value: unknown,
  field: string,
): asserts value is boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new InvalidInputError(`${field} must be a boolean`, field);
  }
}

/** Check an optional JSON object payload. */
export function checkPayload(
  value: unknown,
  field = 'data',
): asserts value is JsonObject | undefined {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(`${field} must be a JSON object`, field);
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new InvalidInputError(`${field} must be a plain JSON object`, field);
  }
}

/** Check that an input is an object. */
export function checkObject(
  value: unknown,
  what: string,
): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(`${what} must be an object`, what);
  }
}
