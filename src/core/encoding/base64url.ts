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

const URL_RE = /^[A-Za-z0-9_-]*$/;
const STD_UNPADDED_RE = /^[A-Za-z0-9+/]*$/;
const STD_PADDED_RE = /^[A-Za-z0-9+/]*={0,2}$/;

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function checkExpected(expectedBytes: number | undefined): void {
  if (expectedBytes === undefined) return;
  if (!Number.isSafeInteger(expectedBytes) || expectedBytes < 0) {
    throw new RangeError('expectedBytes must be a non-negative integer');
  }
}

function decodeCanonical(
  text: unknown,
  expectedBytes: number | undefined,
  re: RegExp,
  encoding: 'base64' | 'base64url',
  padded: boolean,
  label: string,
): Buffer {
  checkExpected(expectedBytes);
  if (typeof text !== 'string') throw new InvalidInputError(`${label} must be a string`);
  if (!re.test(text))
    throw new InvalidInputError(`${label} contains characters outside its alphabet`);
  if (padded ? text.length % 4 !== 0 : text.length % 4 === 1) {
    throw new InvalidInputError(`${label} has an impossible length`);
  }
  const bytes = Buffer.from(text, encoding);
  let again = bytes.toString(encoding);
  if (!padded) again = again.replace(/=+$/, '');
  if (again !== text) throw new InvalidInputError(`${label} is not canonical`);
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
  return decodeCanonical(text, expectedBytes, URL_RE, 'base64url', false, 'base64url text');
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
  return decodeCanonical(text, expectedBytes, STD_PADDED_RE, 'base64', true, 'base64 text');
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
  return decodeCanonical(text, expectedBytes, STD_UNPADDED_RE, 'base64', false, 'base64 text');
}
