/**
 * CRC-32 (IEEE 802.3, the zip/PNG polynomial) via Node's built-in
 * `zlib.crc32` (Node 20.15+, 22.2+). Used as the offline checksum of PAT
 * strings; it detects typos, it is not a MAC.
 *
 * @example `crc32('123456789') // 0xcbf43926`
 * @module
 */

import * as zlib from 'node:zlib';

function makeTable(): Int32Array {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
}

/**
 * The byte table of the same CRC-32 (reflected polynomial `0xEDB88320`), for
 * scanners that checksum while they parse: start from `-1`, step each byte
 * with `crc = CRC32_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8)`, and finish with
 * `(crc ^ -1) >>> 0`, which equals {@link crc32} of the same bytes.
 *
 * @example
 * ```ts
 * let c = -1;
 * for (const b of Buffer.from('123456789')) c = CRC32_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
 * (c ^ -1) >>> 0; // 0xcbf43926
 * ```
 */
export const CRC32_TABLE: Readonly<Int32Array> = makeTable();

type Crc32Fn = (data: string | NodeJS.ArrayBufferView, value?: number) => number;

/**
 * CRC-32 of `data` as an unsigned 32-bit integer.
 *
 * @param data - bytes, or a string (hashed as its UTF-8 bytes)
 * @returns the checksum, 0..0xffffffff
 * @throws Error when the running Node has no `zlib.crc32` (needs Node >= 20.15)
 * @throws TypeError when `data` is neither a string nor a Uint8Array
 * @example `crc32(Buffer.from('123456789')).toString(16) // 'cbf43926'`
 */
export function crc32(data: Uint8Array | string): number {
  const fn = (zlib as unknown as { crc32?: Crc32Fn }).crc32;
  if (typeof fn !== 'function') {
    throw new Error('zlib.crc32 is not available: Tessera needs Node.js >= 20.15 or >= 22.2');
  }
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw new TypeError('data must be a string or a Uint8Array');
  }
  return fn(data) >>> 0;
}
