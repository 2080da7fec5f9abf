/**
 * Argument checks of the sessions module (one clear `InvalidInputError` per
 * mistake) and of its options (`TypeError`/`RangeError` at construction).
 * @module
 */

import { checkName, checkOptionalBoolean } from '../core/checks.js';
import { InvalidInputError } from '../core/errors.js';
import type { Json, JsonObject } from '../stores/contract.js';
import { MAX_TIMEOUT_MS, MIN_TOKEN_LENGTH, type SessionRef, type TokenRef } from './types.js';

export { checkName, checkOptionalBoolean };

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL_RE = /[\u0000-\u001f\u007f]/;
const ID_RE = /^[A-Za-z0-9_-]{43}$/;
const MAX_VALUE_BYTES = 32 * 1024;
const MAX_DATA_BYTES = 16 * 1024;

/** Check that an input is a plain object. */
export function checkObject<T>(value: T, what: string): asserts value is T & object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(`${what} must be an object`, what);
  }
}

/** Check a token presented or supplied by the caller. */
export function checkToken(value: unknown, field = 'token'): asserts value is string {
  if (typeof value !== 'string' || value.length < MIN_TOKEN_LENGTH || value.length > 1024) {
    throw new InvalidInputError(
      `${field} must be a string of ${MIN_TOKEN_LENGTH}..1024 characters (tokens are looked up by value alone, so they must carry >= 112 bits)`,
      field,
    );
  }
}

/** Check a public id. */
export function checkId(value: unknown, field = 'id'): asserts value is string {
  if (typeof value !== 'string' || !ID_RE.test(value)) {
    throw new InvalidInputError(`${field} must be a 43-character base64url id`, field);
  }
}

/** Check a token prefix. */
export function checkPrefix(value: unknown): asserts value is string | undefined {
  if (value === undefined) return;
  if (typeof value !== 'string' || value.length > 64 || CONTROL_RE.test(value)) {
    throw new InvalidInputError(
      'prefix must be a string of at most 64 characters without control characters',
      'prefix',
    );
  }
}

/** Check a session or token reference: `{ token }` or `{ id }`. */
export function checkRef(value: unknown, field: string): asserts value is SessionRef | TokenRef {
  checkObject(value, field);
  const v = value as { token?: unknown; id?: unknown };
  const hasToken = v.token !== undefined;
  const hasId = v.id !== undefined;
  if (hasToken === hasId) {
    throw new InvalidInputError(`${field} must have exactly one of token or id`, field);
  }
  if (hasToken) checkToken(v.token, `${field}.token`);
  else checkId(v.id, `${field}.id`);
}

/** Check a duration in ms: an integer in 1..{@link MAX_TIMEOUT_MS}, or `null` when allowed. */
export function checkTimeout(
  value: unknown,
  field: string,
  nullable: boolean,
): asserts value is number | null {
  if (value === null && nullable) return;
  if (
    typeof value !== 'number' ||
    !Number.isSafeInteger(value) ||
    value < 1 ||
    value > MAX_TIMEOUT_MS
  ) {
    throw new InvalidInputError(
      `${field} must be an integer number of ms in 1..${MAX_TIMEOUT_MS}${nullable ? ', or null' : ''}`,
      field,
    );
  }
}

/** Check an amount (positive or negative, finite). */
export function checkAmount(value: unknown, field = 'price'): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidInputError(`${field} must be a finite number`, field);
  }
}

function checkJson(value: unknown, field: string, depth: number): void {
  if (depth > 32) throw new InvalidInputError(`${field} is nested too deeply (max 32)`, field);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new InvalidInputError(`${field} numbers must be finite`, field);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) checkJson(v, field, depth + 1);
    return;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new InvalidInputError(`${field} must hold plain JSON values only`, field);
    }
    for (const v of Object.values(value as object)) checkJson(v, field, depth + 1);
    return;
  }
  throw new InvalidInputError(`${field} must be JSON (found ${typeof value})`, field);
}

/** Check a token value: any JSON (a string or an object...), up to 32 KiB serialized. */
export function checkValue(value: unknown, field = 'value'): asserts value is Json {
  if (value === undefined) throw new InvalidInputError(`${field} is required`, field);
  checkJson(value, field, 0);
  if (Buffer.byteLength(JSON.stringify(value)) > MAX_VALUE_BYTES) {
    throw new InvalidInputError(
      `${field} must serialize to at most ${MAX_VALUE_BYTES} bytes`,
      field,
    );
  }
}

/** Check an optional application payload (a JSON object up to 16 KiB). */
export function checkPayload(
  value: unknown,
  field = 'data',
): asserts value is JsonObject | undefined {
  if (value === undefined) return;
  checkObject(value, field);
  checkJson(value, field, 0);
  if (Buffer.byteLength(JSON.stringify(value)) > MAX_DATA_BYTES) {
    throw new InvalidInputError(
      `${field} must serialize to at most ${MAX_DATA_BYTES} bytes`,
      field,
    );
  }
}

/** Check an option duration at construction. */
export function checkOptionTimeout(
  value: unknown,
  name: string,
  nullable: boolean,
): asserts value is number | null {
  if (value === null && nullable) return;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`${name} must be an integer number of ms${nullable ? ' or null' : ''}`);
  }
  if (value < 1 || value > MAX_TIMEOUT_MS) {
    throw new RangeError(`${name} must be in 1..${MAX_TIMEOUT_MS} ms`);
  }
}
