/**
 * Argument checks of the action-tokens module (one clear `InvalidInputError`
 * per mistake).
 * @module
 */

import { checkInt, checkName, checkObject, checkOptionalBoolean } from '../core/checks.js';
import { InvalidInputError } from '../core/errors.js';
import type { JsonObject } from '../stores/contract.js';

export { checkInt, checkName, checkObject, checkOptionalBoolean };

/** No control character and no surrogate at all: the common case, decided without a regex. */
function isPlainText(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
}

/**
 * {@link checkName} for an owner, with the common case decided by one scan
 * (the full check, with its precise error, runs for anything else).
 */
export function checkOwner(value: unknown): asserts value is string {
  if (typeof value === 'string' && value.length > 0 && value.length <= 256 && isPlainText(value)) {
    return;
  }
  checkName(value, 'owner');
}

/** Check a presented or supplied value. */
export function checkValue(value: unknown, field = 'value'): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024) {
    throw new InvalidInputError(`${field} must be a string of 1..1024 characters`, field);
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
