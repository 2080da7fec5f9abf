/**
 * The single-pass parser behind `TokenCodec.parse`: one loop over the
 * characters with table lookups, no regular expressions and no intermediate
 * strings. It is as strict as the formats (see `format.ts`): only canonical
 * encodings pass, and a `tessera` token whose CRC-32 does not match is
 * refused here, before any store read.
 * @module
 */
import { BASE62_VALUES, BASE64_VALUES, BASE64URL_VALUES } from '../core/encoding/alphabets.js';
import { CRC32_TABLE } from '../core/encoding/crc32.js';
import type { TokenFormat } from './types.js';

/** A token that scanned: its id, secret bytes and format. */
export interface ScannedToken {
  readonly ok: true;
  readonly tokenId: string;
  readonly secret: Buffer;
  readonly format: TokenFormat;
}

/** Where things are in a token string. */
export interface TokenLayout {
  /** Token prefix (ASCII, already checked). */
  readonly prefix: string;
  /** Secret size in bytes. */
  readonly secretBytes: number;
  /** Length of the base62 id. */
  readonly idLength: number;
  /** Number of base62 digits of the CRC-32. */
  readonly checksumLength: number;
}

const EQUALS = 61; // '='
const DOT = 46; // '.'

/**
 * Decode `count` characters of `token` from `start` with the digit table
 * `values` into `out` (exactly `out.length` bytes), updating nothing else.
 * Returns false on a character outside the alphabet or non-zero spare bits.
 */
function decodeInto(
  token: string,
  start: number,
  count: number,
  values: Readonly<Int8Array>,
  out: Buffer,
): boolean {
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = start, end = start + count; i < end; i++) {
    const code = token.charCodeAt(i);
    const v = code < 128 ? values[code]! : -1;
    if (v < 0) return false;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = acc >>> bits;
      acc &= (1 << bits) - 1;
    }
  }
  return acc === 0 && o === out.length;
}

/**
 * A scanner for one prefix and secret size.
 *
 * @param layout - prefix (checked by the caller), secret size, id and checksum lengths
 * @returns `scan(token)`, for a string that starts with the prefix and is at most the
 *   longest token length: the parsed token, or `undefined` when it is not one
 * @example
 * ```ts
 * const scan = createTokenScanner({ prefix: 'pat_', secretBytes: 32, idLength: 21, checksumLength: 6 });
 * scan(token)?.tokenId;
 * ```
 */
export function createTokenScanner(
  layout: TokenLayout,
): (token: string) => ScannedToken | undefined {
  const { prefix, secretBytes, idLength, checksumLength } = layout;
  const p = prefix.length;
  const idEnd = p + idLength;
  const urlChars = Math.ceil((secretBytes * 4) / 3);
  const tesseraLength = idEnd + urlChars + checksumLength;
  const stdChars = 4 * Math.ceil(secretBytes / 3);
  const stdData = urlChars; // data characters before the `=` padding
  const legacyLength = idEnd + 1 + stdChars;
  // CRC-32 state after the prefix, which every token of this codec starts with.
  let prefixCrc = -1;
  for (let i = 0; i < p; i++) {
    prefixCrc = CRC32_TABLE[(prefixCrc ^ prefix.charCodeAt(i)) & 0xff]! ^ (prefixCrc >>> 8);
  }

  const fullBytes = secretBytes - (secretBytes % 3); // bytes written 3 per 4 characters
  const rest = secretBytes % 3; // 1: 2 more characters (4 spare bits); 2: 3 more (2 spare bits)

  function tessera(token: string): ScannedToken | undefined {
    let crc = prefixCrc;
    for (let i = p; i < idEnd; i++) {
      const code = token.charCodeAt(i);
      if (code >= 128 || BASE62_VALUES[code]! < 0) return undefined;
      crc = CRC32_TABLE[(crc ^ code) & 0xff]! ^ (crc >>> 8);
    }
    // The secret, 4 characters (3 bytes) at a time, checksummed as it is decoded.
    const secret = Buffer.allocUnsafe(secretBytes);
    let i = idEnd;
    for (let o = 0; o < fullBytes; o += 3, i += 4) {
      const c0 = token.charCodeAt(i);
      const c1 = token.charCodeAt(i + 1);
      const c2 = token.charCodeAt(i + 2);
      const c3 = token.charCodeAt(i + 3);
      if ((c0 | c1 | c2 | c3) >= 128) return undefined;
      const v0 = BASE64URL_VALUES[c0]!;
      const v1 = BASE64URL_VALUES[c1]!;
      const v2 = BASE64URL_VALUES[c2]!;
      const v3 = BASE64URL_VALUES[c3]!;
      if ((v0 | v1 | v2 | v3) < 0) return undefined;
      crc = CRC32_TABLE[(crc ^ c0) & 0xff]! ^ (crc >>> 8);
      crc = CRC32_TABLE[(crc ^ c1) & 0xff]! ^ (crc >>> 8);
      crc = CRC32_TABLE[(crc ^ c2) & 0xff]! ^ (crc >>> 8);
      crc = CRC32_TABLE[(crc ^ c3) & 0xff]! ^ (crc >>> 8);
      const n = (v0 << 18) | (v1 << 12) | (v2 << 6) | v3;
      secret[o] = n >>> 16;
      secret[o + 1] = (n >>> 8) & 0xff;
      secret[o + 2] = n & 0xff;
    }
    if (rest !== 0) {
      const c0 = token.charCodeAt(i);
      const c1 = token.charCodeAt(i + 1);
      const c2 = rest === 2 ? token.charCodeAt(i + 2) : 65; // 'A': no bits
      if ((c0 | c1 | c2) >= 128) return undefined;
      const v0 = BASE64URL_VALUES[c0]!;
      const v1 = BASE64URL_VALUES[c1]!;
      const v2 = BASE64URL_VALUES[c2]!;
      if ((v0 | v1 | v2) < 0) return undefined;
      crc = CRC32_TABLE[(crc ^ c0) & 0xff]! ^ (crc >>> 8);
      crc = CRC32_TABLE[(crc ^ c1) & 0xff]! ^ (crc >>> 8);
      const n = (v0 << 18) | (v1 << 12) | (v2 << 6);
      secret[fullBytes] = n >>> 16;
      if (rest === 2) {
        crc = CRC32_TABLE[(crc ^ c2) & 0xff]! ^ (crc >>> 8);
        secret[fullBytes + 1] = (n >>> 8) & 0xff;
      }
      // Canonical: the bits after the last byte are zero.
      if ((n & (rest === 2 ? 0xff : 0xffff)) !== 0) return undefined;
    }
    let sum = 0;
    for (let k = idEnd + urlChars; k < tesseraLength; k++) {
      const code = token.charCodeAt(k);
      const v = code < 128 ? BASE62_VALUES[code]! : -1;
      if (v < 0) return undefined;
      sum = sum * 62 + v;
    }
    if (sum !== (crc ^ -1) >>> 0) return undefined;
    return { ok: true, tokenId: token.slice(p, idEnd), secret, format: 'tessera' };
  }

  function legacy(token: string): ScannedToken | undefined {
    for (let i = p; i < idEnd; i++) {
      const code = token.charCodeAt(i);
      if (code >= 128 || BASE62_VALUES[code]! < 0) return undefined;
    }
    if (token.charCodeAt(idEnd) !== DOT) return undefined;
    const dataEnd = idEnd + 1 + stdData;
    for (let i = dataEnd; i < legacyLength; i++) {
      if (token.charCodeAt(i) !== EQUALS) return undefined;
    }
    const secret = Buffer.allocUnsafe(secretBytes);
    if (!decodeInto(token, idEnd + 1, stdData, BASE64_VALUES, secret)) return undefined;
    return { ok: true, tokenId: token.slice(p, idEnd), secret, format: 'legacy' };
  }

  return (token) =>
    token.length === tesseraLength
      ? tessera(token)
      : token.length === legacyLength
        ? legacy(token)
        : undefined;
}
