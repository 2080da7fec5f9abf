/**
 * Base62 (alphabet `0-9A-Za-z`) of a big-endian unsigned integer, as used by
 * PAT ids. Strict decoding: only alphabet characters, and the value must fit in
 * the requested number of bytes.
 *
 * @example
 * ```ts
 * const id = encodeBase62(bytes, 22);       // fixed width, left-padded with '0'
 * const back = decodeBase62(id, bytes.length);
 * ```
 * @module
 */

import { InvalidInputError } from '../errors.js';

/** The base62 alphabet, in digit order: `0-9A-Za-z`. */
export const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

const BASE62_RE = /^[0-9A-Za-z]+$/;
const MAX_TEXT_LENGTH = 2048;
const MAX_BYTES = 1024;

function digitValue(code: number): number {
  if (code <= 57) return code - 48; // 0-9
  if (code <= 90) return code - 55; // A-Z
  return code - 61; // a-z
}

/**
 * Encode bytes, read as one big-endian unsigned integer, in base62.
 *
 * @param bytes - the number's bytes, most significant first (at most 1024)
 * @param length - exact output width in characters, left-padded with `'0'`; minimal width
 *   (at least one digit) when omitted
 * @returns the base62 text
 * @throws RangeError when `bytes` is longer than 1024, `length` is not an integer in 1..2048,
 *   or the value needs more than `length` digits
 * @example `encodeBase62(Uint8Array.of(1, 0), 4) // '0048'`
 */
export function encodeBase62(bytes: Uint8Array, length?: number): string {
  if (bytes.length > MAX_BYTES) throw new RangeError(`bytes must be at most ${MAX_BYTES} long`);
  if (
    length !== undefined &&
    (!Number.isSafeInteger(length) || length < 1 || length > MAX_TEXT_LENGTH)
  ) {
    throw new RangeError(`length must be an integer in 1..${MAX_TEXT_LENGTH}`);
  }
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  let out = '';
  do {
    out = BASE62_ALPHABET[Number(value % 62n)] + out;
    value /= 62n;
  } while (value > 0n);
  if (length === undefined) return out;
  if (out.length > length) throw new RangeError(`value does not fit in ${length} base62 digits`);
  return out.padStart(length, '0');
}

/**
 * Decode base62 text into exactly `byteLength` big-endian bytes. Leading `'0'`
 * digits are allowed (fixed-width ids have them).
 *
 * @param text - 1..2048 characters from `0-9A-Za-z`
 * @param byteLength - output size in bytes, integer 1..1024
 * @returns a Buffer of `byteLength` bytes, left-padded with zero bytes
 * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) when `text` is empty, too long, has a
 *   character outside the alphabet, or its value does not fit in `byteLength` bytes
 * @throws RangeError when `byteLength` is not an integer in 1..1024
 * @example `decodeBase62('0048', 2) // <Buffer 01 00>`
 */
export function decodeBase62(text: string, byteLength: number): Buffer {
  if (!Number.isSafeInteger(byteLength) || byteLength < 1 || byteLength > MAX_BYTES) {
    throw new RangeError(`byteLength must be an integer in 1..${MAX_BYTES}`);
  }
  if (!isBase62(text)) throw new InvalidInputError('base62 text is empty, too long or malformed');
  let value = 0n;
  for (let i = 0; i < text.length; i++) {
    value = value * 62n + BigInt(digitValue(text.charCodeAt(i)));
  }
  if (value >> BigInt(byteLength * 8) !== 0n) {
    throw new InvalidInputError(`base62 value does not fit in ${byteLength} bytes`);
  }
  const out = Buffer.alloc(byteLength);
  for (let i = byteLength - 1; i >= 0 && value > 0n; i--) {
    out[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return out;
}

/**
 * Whether `text` is a non-empty string of at most 2048 base62 characters.
 *
 * @param text - the candidate (any value)
 * @example `isBase62('abc123') // true; isBase62('abc-1') // false`
 */
export function isBase62(text: unknown): text is string {
  return typeof text === 'string' && text.length <= MAX_TEXT_LENGTH && BASE62_RE.test(text);
}
