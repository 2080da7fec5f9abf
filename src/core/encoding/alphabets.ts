/**
 * Character lookup tables of the alphabets the codecs use, for hand-written
 * single-pass scanners: `table[charCode]` is the digit value of an ASCII
 * character, or -1 when it is not in the alphabet. Only char codes below 128
 * may be looked up (check `code < 128` first: anything above is outside every
 * alphabet here).
 *
 * @example
 * ```ts
 * const v = code < 128 ? BASE64URL_VALUES[code]! : -1; // 0..63, or -1
 * ```
 * @module
 */

function table(alphabet: string): Int8Array {
  const values = new Int8Array(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) values[alphabet.charCodeAt(i)] = i;
  return values;
}

/** Digit values of base62 (`0-9A-Za-z`, in that order), -1 elsewhere. */
export const BASE62_VALUES: Readonly<Int8Array> = table(
  '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
);

/** Digit values of base64url (RFC 4648 §5, `A-Za-z0-9-_`), -1 elsewhere (including `=`). */
export const BASE64URL_VALUES: Readonly<Int8Array> = table(
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
);

/** Digit values of standard base64 (RFC 4648 §4, `A-Za-z0-9+/`), -1 elsewhere (including `=`). */
export const BASE64_VALUES: Readonly<Int8Array> = table(
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/',
);
