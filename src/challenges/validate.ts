/**
 * Argument checks of the challenges module: one clear `InvalidInputError` per
 * mistake, naming the offending field.
 * @module
 */

import { checkInt, checkName, checkObject, checkOptionalBoolean } from '../core/checks.js';
import { InvalidInputError } from '../core/errors.js';
import type { Json } from '../stores/contract.js';
import { NEVER, type ResolvedSecretSettings, type SecretSettings, type Ttl } from './types.js';

export { checkInt, checkName, checkObject, checkOptionalBoolean };

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

/** Longest lifetime or throttle, in seconds (one year). */
export const MAX_TTL_SECONDS = 31_536_000;

/** Largest serialized metadata, in bytes. */
export const MAX_METADATA_BYTES = 32 * 1024;

/** Fewest distinct values a generated short secret may have. */
export const MIN_SECRET_SPACE = 10_000;

/** Check a presented secret or token. */
export function checkToken(value: unknown, field = 'token'): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 4096) {
    throw new InvalidInputError(`${field} must be a string of 1..4096 characters`, field);
  }
}

/** Check a ttl: seconds in 1..31536000 or `'never'` (0 is refused on purpose). */
export function checkTtl(value: unknown, field = 'ttl'): asserts value is Ttl {
  if (value === NEVER) return;
  if (value === 0) {
    throw new InvalidInputError(
      `${field} must be at least 1 second; pass ttl: '${NEVER}' for a challenge that never expires`,
      field,
    );
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidInputError(
      `${field} must be an integer in 1..${MAX_TTL_SECONDS} or '${NEVER}'`,
      field,
    );
  }
  if (value > MAX_TTL_SECONDS) {
    throw new InvalidInputError(`${field} must be at most ${MAX_TTL_SECONDS} seconds`, field);
  }
}

/**
 * Resolve `throttle` against the ttl: `true` means the whole ttl, a number
 * must be in 0..ttl (0..31536000 with a ttl of `'never'`).
 * @returns the throttle in seconds (0 for none)
 */
export function resolveThrottle(value: unknown, ttl: Ttl): number {
  if (value === undefined || value === false) return 0;
  if (value === true) {
    if (ttl === NEVER) {
      throw new InvalidInputError(
        `throttle: true needs a ttl in seconds (the ttl is '${NEVER}')`,
        'throttle',
      );
    }
    return ttl;
  }
  const max = ttl === NEVER ? MAX_TTL_SECONDS : ttl;
  checkInt(value, 'throttle', 0, max);
  return value;
}

function isJson(value: unknown, depth: number): boolean {
  if (depth > 32) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => isJson(v, depth + 1));
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return false;
    return Object.values(value as object).every((v) => isJson(v, depth + 1));
  }
  return false;
}

/** Check metadata: any JSON value, at most 32 KiB serialized. */
export function checkMetadata(value: unknown): asserts value is Json | undefined {
  if (value === undefined) return;
  if (!isJson(value, 0)) {
    throw new InvalidInputError(
      'metadata must be a JSON value (plain objects, arrays, strings, finite numbers, booleans, null)',
      'metadata',
    );
  }
  if (Buffer.byteLength(JSON.stringify(value)) > MAX_METADATA_BYTES) {
    throw new InvalidInputError(
      `metadata must serialize to at most ${MAX_METADATA_BYTES} bytes`,
      'metadata',
    );
  }
}

/**
 * Resolve `secret` to stored settings: `true`/`undefined` → sealed UUID,
 * `false` → none, else checked settings with defaults filled in.
 */
export function resolveSecretSettings(value: unknown): ResolvedSecretSettings | false {
  if (value === undefined || value === true) return { type: 'uuid', encrypt: true };
  if (value === false) return false;
  checkObject(value, 'secret');
  const s = value as Partial<SecretSettings> & Record<string, unknown>;
  for (const key of Object.keys(s)) {
    if (!['type', 'alphabet', 'length', 'encrypt'].includes(key)) {
      throw new InvalidInputError(`secret.${key} is not a known setting`, `secret.${key}`);
    }
  }
  checkOptionalBoolean(s.encrypt, 'secret.encrypt');
  switch (s.type) {
    case 'uuid':
      if (s.length !== undefined || s.alphabet !== undefined) {
        throw new InvalidInputError(
          'secret.length and secret.alphabet do not apply to uuid',
          'secret',
        );
      }
      return { type: 'uuid', encrypt: s.encrypt ?? true };
    case 'number': {
      if (s.alphabet !== undefined) {
        throw new InvalidInputError('secret.alphabet applies to alphabet only', 'secret.alphabet');
      }
      const length = s.length ?? 8;
      checkInt(length, 'secret.length', 4, 64);
      return { type: 'number', length, encrypt: s.encrypt ?? false };
    }
    case 'alphabet': {
      if (typeof s.alphabet !== 'string') {
        throw new InvalidInputError('secret.alphabet must be a string', 'secret.alphabet');
      }
      const chars = Array.from(s.alphabet);
      if (chars.length < 2 || chars.length > 256 || new Set(chars).size !== chars.length) {
        throw new InvalidInputError(
          'secret.alphabet must have 2..256 distinct characters',
          'secret.alphabet',
        );
      }
      if (chars.some((c) => CONTROL_RE.test(c))) {
        throw new InvalidInputError(
          'secret.alphabet must not contain control characters',
          'secret.alphabet',
        );
      }
      const length = s.length ?? 8;
      checkInt(length, 'secret.length', 1, 256);
      if (length * Math.log2(chars.length) < Math.log2(MIN_SECRET_SPACE) - 1e-9) {
        throw new InvalidInputError(
          `secret.length is too short for this alphabet: the secret must have at least ${MIN_SECRET_SPACE} possible values`,
          'secret.length',
        );
      }
      return { type: 'alphabet', alphabet: s.alphabet, length, encrypt: s.encrypt ?? false };
    }
    default:
      throw new InvalidInputError(
        "secret.type must be 'uuid', 'number' or 'alphabet'",
        'secret.type',
      );
  }
}
