/**
 * Unambiguous encoding of a list of strings: each part is written as its UTF-8
 * byte length (4-byte big-endian unsigned) followed by its bytes. Distinct
 * lists always give distinct encodings, so `['ab', 'c']` and `['a', 'bc']`
 * never collide when the result is hashed or used as AEAD associated data.
 *
 * @example `encodeLengthPrefixed(['owner', 'action', '12345678'])`
 * @module
 */

/**
 * Encode `parts` as length-prefixed UTF-8.
 *
 * @param parts - the strings to encode, in order (at most 1024 parts)
 * @returns the encoding: for each part, `uint32be(byteLength) || utf8(part)`
 * @throws TypeError when `parts` is not an array of strings
 * @throws RangeError when there are more than 1024 parts
 * @example `encodeLengthPrefixed(['a']) // <Buffer 00 00 00 01 61>`
 */
export function encodeLengthPrefixed(parts: readonly string[]): Buffer {
  if (!Array.isArray(parts)) throw new TypeError('parts must be an array of strings');
  if (parts.length > 1024) throw new RangeError('parts must have at most 1024 entries');
  const chunks: Buffer[] = [];
  for (const part of parts) {
    if (typeof part !== 'string') throw new TypeError('parts must be an array of strings');
    const bytes = Buffer.from(part, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length, 0);
    chunks.push(len, bytes);
  }
  return Buffer.concat(chunks);
}
