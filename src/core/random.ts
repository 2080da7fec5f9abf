/**
 * Cryptographically secure randomness for every secret, id and code Tessera
 * issues. Everything here draws from `node:crypto` (`randomBytes`,
 * `randomInt`, `randomUUID`); nothing uses `Math.random`. Codes and ids pick
 * each character with `crypto.randomInt(alphabetSize)`, which rejects
 * out-of-range samples, so there is no modulo bias.
 *
 * @example
 * ```ts
 * const code = randomNumericCode(8);   // e.g. '04719385'
 * const secret = randomSecret();       // 256 bits, 43 base64url chars
 * ```
 * @module
 */

import * as nodeCrypto from 'node:crypto';
import { BASE62_ALPHABET } from './encoding/base62.js';

function checkInt(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in ${min}..${max}`);
  }
}

function pick(chars: readonly string[] | string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += chars[nodeCrypto.randomInt(chars.length)];
  return out;
}

/**
 * `n` cryptographically secure random bytes.
 *
 * @param n - number of bytes, integer 1..1024
 * @returns a new Buffer of `n` random bytes
 * @throws RangeError when `n` is not an integer in 1..1024
 * @example `const salt = randomBytes(16);`
 */
export function randomBytes(n: number): Buffer {
  checkInt('n', n, 1, 1024);
  return nodeCrypto.randomBytes(n);
}

/**
 * A string of `length` uniformly random decimal digits; leading zeros are
 * allowed (so an 8-digit code has 10^8 values, about 26.6 bits).
 *
 * @param length - number of digits, integer 1..64
 * @returns the digits
 * @throws RangeError when `length` is not an integer in 1..64
 * @example `randomNumericCode(8) // '04719385'`
 */
export function randomNumericCode(length: number): string {
  checkInt('length', length, 1, 64);
  return pick('0123456789', length);
}

/**
 * A string of `length` characters, each drawn uniformly from `alphabet`.
 * Characters are Unicode code points (`Array.from(alphabet)`).
 *
 * @param alphabet - 2..256 distinct characters
 * @param length - number of characters, integer 1..256
 * @returns the code
 * @throws TypeError when `alphabet` is not a string
 * @throws RangeError when `alphabet` has fewer than 2 or more than 256 characters, repeats a
 *   character, or `length` is not an integer in 1..256
 * @example `randomAlphabetCode('ABCDEFGHJKLMNPQRSTUVWXYZ23456789', 10)`
 */
export function randomAlphabetCode(alphabet: string, length: number): string {
  if (typeof alphabet !== 'string') throw new TypeError('alphabet must be a string');
  const chars = Array.from(alphabet);
  if (chars.length < 2 || chars.length > 256) {
    throw new RangeError('alphabet must have 2..256 characters');
  }
  if (new Set(chars).size !== chars.length) {
    throw new RangeError('alphabet must not repeat a character');
  }
  checkInt('length', length, 1, 256);
  return pick(chars, length);
}

/**
 * A random (version 4) UUID, lowercase, 36 characters (122 random bits).
 *
 * @example `randomUUID() // '3b241101-e2bb-4255-8caf-4136c566a962'`
 */
export function randomUUID(): string {
  return nodeCrypto.randomUUID();
}

/**
 * A random secret as unpadded base64url. The default, 32 bytes (256 bits),
 * gives 43 characters.
 *
 * @param bytes - entropy in bytes, integer 1..1024 (default 32)
 * @returns base64url text without padding
 * @throws RangeError when `bytes` is not an integer in 1..1024
 * @example `const sessionToken = randomSecret(); // 43 chars`
 */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * A random id of `length` characters drawn uniformly from base62
 * (`0-9A-Za-z`); each character carries log2(62) ≈ 5.95 bits, so the default
 * 22 characters give about 131 bits.
 *
 * @param length - number of characters, integer 1..256 (default 22)
 * @returns the id
 * @throws RangeError when `length` is not an integer in 1..256
 * @example `randomId62() // '4Hq0rT2mZ8xYb1cVd3eWf5'`
 */
export function randomId62(length = 22): string {
  checkInt('length', length, 1, 256);
  return pick(BASE62_ALPHABET, length);
}
