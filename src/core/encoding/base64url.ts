/**
 * Strict, canonical base64 codecs. Node's `Buffer.from(text, 'base64')` ignores
 * junk, stops at `=` and accepts both alphabets, so many strings decode to the
 * same bytes. The decoders here accept exactly one spelling per byte string:
 * the one the matching encoder produces. Anything else throws
 * {@link InvalidInputError} (`ERR_TESSERA_INVALID_INPUT`).
 *
 * @example
 * ```ts
 * const text = encodeBase64url(randomBytes(32)); // 43 chars, no padding
 * const bytes = decodeBase64url(text, 32);
 * ```
 * @module
 */

import { InvalidInputError } from '../errors.js';
import { BASE64_VALUES, BASE64URL_VALUES } from './alphabets.js';

const EQUALS = 61; // '='

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function checkExpected(expectedBytes: number | undefined): void {
  if (expectedBytes === undefined) return;
  if (!Number.isSafeInteger(expectedBytes) || expectedBytes < 0) {
    throw new RangeError('expectedBytes must be a non-negative integer');
  }
}

/**
 * Number of data characters of `text` (before any `=` padding) when every one
 * is in `values` and the padding, if allowed, is 0..2 trailing `=`; else -1.
 */
function dataLength(text: string, values: Readonly<Int8Array>, padded: boolean): number {
  let end = text.length;
  if (padded) {
    if (end > 0 && text.charCodeAt(end - 1) === EQUALS) end--;
    if (end > 0 && text.charCodeAt(end - 1) === EQUALS) end--;
  }
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code >= 128 || values[code]! < 0) return -1;
  }
  return end;
}

/**
 * Decode after checking, in one pass and without regular expressions, what
 * the encoder would write: the alphabet, the length (and padding), and zero
 * bits after the last byte, so that re-encoding gives `text` back.
 */
function decodeCanonical(
  text: unknown,
  expectedBytes: number | undefined,
  values: Readonly<Int8Array>,
  encoding: 'base64' | 'base64url',
  padded: boolean,
  label: string,
): Buffer {
  checkExpected(expectedBytes);
  if (typeof text !== 'string') throw new InvalidInputError(`${label} must be a string`);
  const data = dataLength(text, values, padded);
  if (data < 0) throw new InvalidInputError(`${label} contains characters outside its alphabet`);
  if (padded ? text.length % 4 !== 0 : text.length % 4 === 1) {
    throw new InvalidInputError(`${label} has an impossible length`);
  }
  // With a valid length, padding (if any) is exactly what data % 4 needs, so
  // only the unused low bits of the last data character can differ.
  const spare = data % 4 === 2 ? 0b1111 : data % 4 === 3 ? 0b11 : 0;
  if (spare !== 0 && (values[text.charCodeAt(data - 1)]! & spare) !== 0) {
    throw new InvalidInputError(`${label} is not canonical`);
  }
  const bytes = Buffer.from(text, encoding);
  if (expectedBytes !== undefined && bytes.length !== expectedBytes) {
    throw new InvalidInputError(`${label} must decode to exactly ${expectedBytes} bytes`);
  }
  return bytes;
}

/**
 * Encode bytes as base64url (RFC 4648 §5) without padding.
 *
 * @param bytes - the bytes to encode
 * @returns the unpadded base64url text (alphabet `A-Za-z0-9-_`)
 * @example `encodeBase64url(Buffer.from([0xfb, 0xff])) // '-_8'`
 */
export function encodeBase64url(bytes: Uint8Array): string {
  return toBuffer(bytes).toString('base64url');
}

/**
 * Decode strict, canonical, unpadded base64url: only `[A-Za-z0-9_-]`, no `=`,
 * `length % 4 !== 1`, and the unused trailing bits must be zero, so that
 * `encodeBase64url(decodeBase64url(s)) === s`. The empty string decodes to an
 * empty buffer unless `expectedBytes` says otherwise.
 *
 * @param text - the base64url text
 * @param expectedBytes - exact decoded length in bytes (any length when omitted)
 * @returns the decoded bytes
 * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) when `text` is not the canonical
 *   encoding or does not decode to `expectedBytes` bytes
 * @throws RangeError when `expectedBytes` is not a non-negative integer
 * @example `const secret = decodeBase64url(token.slice(4), 32);`
 */
export function decodeBase64url(text: string, expectedBytes?: number): Buffer {
  return decodeCanonical(
    text,
    expectedBytes,
    BASE64URL_VALUES,
    'base64url',
    false,
    'base64url text',
  );
}

/**
 * Whether `text` is canonical unpadded base64url (see {@link decodeBase64url}),
 * optionally of exactly `expectedBytes` decoded bytes. Never throws for bad text.
 *
 * @param text - the candidate text (any value)
 * @param expectedBytes - exact decoded length in bytes (any length when omitted)
 * @throws RangeError when `expectedBytes` is not a non-negative integer
 * @example `isCanonicalBase64url('-_8') // true; isCanonicalBase64url('-_9') // false`
 */
export function isCanonicalBase64url(text: unknown, expectedBytes?: number): boolean {
  checkExpected(expectedBytes);
  try {
    decodeBase64url(text as string, expectedBytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Decode strict, canonical STANDARD base64 WITH padding (RFC 4648 §4): alphabet
 * `A-Za-z0-9+/`, length a multiple of 4, `=` padding exactly as the canonical
 * encoding writes it, zero trailing bits. Used for the seed's legacy
 * `pat_<id>.<secret>` tokens, whose secret is 32 random bytes written as 44
 * characters ending in `=`.
 *
 * @param text - the padded base64 text
 * @param expectedBytes - exact decoded length in bytes (any length when omitted)
 * @returns the decoded bytes
 * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) when `text` is not the canonical
 *   encoding or does not decode to `expectedBytes` bytes
 * @throws RangeError when `expectedBytes` is not a non-negative integer
 * @example `decodeStrictBase64(legacySecret, 32) // 32-byte Buffer`
 */
export function decodeStrictBase64(text: string, expectedBytes?: number): Buffer {
  return decodeCanonical(text, expectedBytes, BASE64_VALUES, 'base64', true, 'base64 text');
}

/**
 * Encode bytes as standard base64 WITHOUT padding (the "B64" of the PHC string
 * format, as `@phc/format` writes salts and hashes).
 *
 * @param bytes - the bytes to encode
 * @returns unpadded standard base64 (alphabet `A-Za-z0-9+/`)
 * @example `encodeBase64Unpadded(Buffer.from('hi')) // 'aGk'`
 */
export function encodeBase64Unpadded(bytes: Uint8Array): string {
  return toBuffer(bytes).toString('base64').replace(/=+$/, '');
}

/**
 * Decode strict, canonical standard base64 WITHOUT padding (PHC "B64"):
 * alphabet `A-Za-z0-9+/`, no `=`, `length % 4 !== 1`, zero trailing bits.
 *
 * @param text - the unpadded base64 text
 * @param expectedBytes - exact decoded length in bytes (any length when omitted)
 * @returns the decoded bytes
 * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) when `text` is not the canonical
 *   encoding or does not decode to `expectedBytes` bytes
 * @throws RangeError when `expectedBytes` is not a non-negative integer
 * @example `decodeStrictBase64Unpadded('aGk') // <Buffer 68 69>`
 */
export function decodeStrictBase64Unpadded(text: string, expectedBytes?: number): Buffer {
  return decodeCanonical(text, expectedBytes, BASE64_VALUES, 'base64', false, 'base64 text');
}
