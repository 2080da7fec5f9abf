import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BASE62_VALUES,
  BASE64_VALUES,
  BASE64URL_VALUES,
} from '../../src/core/encoding/alphabets.js';
import { decodeBase62, encodeBase62, isBase62 } from '../../src/core/encoding/base62.js';
import {
  decodeBase64url,
  decodeStrictBase64,
  decodeStrictBase64Unpadded,
  encodeBase64Unpadded,
  encodeBase64url,
  isCanonicalBase64url,
} from '../../src/core/encoding/base64url.js';
import { CRC32_TABLE, crc32 } from '../../src/core/encoding/crc32.js';
import { encodeLengthPrefixed } from '../../src/core/encoding/length-prefixed.js';
import { InvalidInputError } from '../../src/core/errors.js';

describe('base62', () => {
  it('encodes a big-endian number with the 0-9A-Za-z alphabet', () => {
    expect(encodeBase62(Uint8Array.of(0))).toBe('0');
    expect(encodeBase62(Uint8Array.of(61))).toBe('z');
    expect(encodeBase62(Uint8Array.of(62))).toBe('10');
    expect(encodeBase62(Uint8Array.of(1, 0))).toBe('48');
    expect(encodeBase62(new Uint8Array(0))).toBe('0');
  });

  it('left-pads to a fixed width and refuses values that do not fit', () => {
    expect(encodeBase62(Uint8Array.of(1, 0), 4)).toBe('0048');
    expect(() => encodeBase62(Uint8Array.of(1, 0), 1)).toThrow(RangeError);
    expect(() => encodeBase62(Uint8Array.of(1), 0)).toThrow(RangeError);
  });

  it('round-trips 16 random bytes through 22 characters', () => {
    for (let i = 0; i < 50; i++) {
      const bytes = Buffer.from(crypto.getRandomValues(new Uint8Array(16)));
      const text = encodeBase62(bytes, 22);
      expect(text).toMatch(/^[0-9A-Za-z]{22}$/);
      expect(decodeBase62(text, 16).equals(bytes)).toBe(true);
    }
  });

  it('decodes into exactly byteLength bytes, left-padded with zeros', () => {
    expect(decodeBase62('0048', 2)).toEqual(Buffer.from([1, 0]));
    expect(decodeBase62('48', 4)).toEqual(Buffer.from([0, 0, 1, 0]));
    expect(decodeBase62('0', 1)).toEqual(Buffer.from([0]));
  });

  it('rejects foreign characters, empty text and values too large for byteLength', () => {
    expect(() => decodeBase62('ab-c', 4)).toThrow(InvalidInputError);
    expect(() => decodeBase62('', 4)).toThrow(InvalidInputError);
    expect(() => decodeBase62('48', 1)).toThrow(InvalidInputError); // 256 > 255
    expect(() => decodeBase62('47', 1)).not.toThrow();
    expect(() => decodeBase62('0', 0)).toThrow(RangeError);
  });

  it('recognises base62 text', () => {
    expect(isBase62('abcXYZ019')).toBe(true);
    expect(isBase62('')).toBe(false);
    expect(isBase62('a_b')).toBe(false);
    expect(isBase62(7)).toBe(false);
  });
});

describe('base64url', () => {
  it('encodes without padding', () => {
    expect(encodeBase64url(Buffer.from([0xfb, 0xff]))).toBe('-_8');
    expect(encodeBase64url(new Uint8Array(32))).toHaveLength(43);
  });

  it('round-trips and checks the exact decoded length', () => {
    const bytes = Buffer.from(crypto.getRandomValues(new Uint8Array(32)));
    const text = encodeBase64url(bytes);
    expect(decodeBase64url(text, 32).equals(bytes)).toBe(true);
    expect(() => decodeBase64url(text, 31)).toThrow(InvalidInputError);
  });

  it('rejects padding, the standard alphabet, junk and impossible lengths', () => {
    for (const bad of ['-_8=', '+/8', 'ab c', 'abcde', 'ab.c', 'ab\n']) {
      expect(() => decodeBase64url(bad)).toThrow(InvalidInputError);
      expect(isCanonicalBase64url(bad)).toBe(false);
    }
  });

  it('rejects non-zero trailing bits, so each byte string has one spelling', () => {
    expect(decodeBase64url('-_8')).toEqual(Buffer.from([0xfb, 0xff]));
    // '-_9' decodes to the same bytes in Node's lenient decoder.
    expect(Buffer.from('-_9', 'base64url')).toEqual(Buffer.from([0xfb, 0xff]));
    expect(() => decodeBase64url('-_9')).toThrow(InvalidInputError);
    expect(isCanonicalBase64url('-_9')).toBe(false);
    expect(isCanonicalBase64url('-_8', 2)).toBe(true);
    expect(isCanonicalBase64url(undefined)).toBe(false);
  });
});

describe('strict standard base64', () => {
  it('accepts the 44-character padded form of a 32-byte legacy secret', () => {
    const bytes = Buffer.from(crypto.getRandomValues(new Uint8Array(32)));
    const text = bytes.toString('base64');
    expect(text).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(decodeStrictBase64(text, 32).equals(bytes)).toBe(true);
  });

  it('rejects what Node would silently accept', () => {
    const text = Buffer.alloc(32, 0xfb).toString('base64');
    expect(text).toBe('+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/s=');
    const variants = [
      text.slice(0, -1), // padding dropped
      `${text}@@`, // junk appended
      `${text}=zz`,
      text.replace(/\+/g, '-').replace(/\//g, '_'), // url-safe alphabet
      `${text.slice(0, -2)}t=`, // non-zero trailing bits ('s' = 44, 't' = 45)
    ];
    for (const v of variants) {
      expect(Buffer.from(v, 'base64').subarray(0, 31)).toEqual(Buffer.alloc(31, 0xfb));
      expect(() => decodeStrictBase64(v, 32)).toThrow(InvalidInputError);
    }
    expect(() => decodeStrictBase64(`=${text.slice(1)}`, 32)).toThrow(InvalidInputError);
    expect(() => decodeStrictBase64(text, 31)).toThrow(InvalidInputError);
  });

  it('round-trips unpadded standard base64 (PHC B64) and rejects padding', () => {
    const bytes = Buffer.from([0xfb, 0xff, 0x01]);
    const text = encodeBase64Unpadded(Buffer.from('hi'));
    expect(text).toBe('aGk');
    expect(decodeStrictBase64Unpadded(encodeBase64Unpadded(bytes))).toEqual(bytes);
    expect(() => decodeStrictBase64Unpadded('aGk=')).toThrow(InvalidInputError);
    expect(() => decodeStrictBase64Unpadded('aGl')).toThrow(InvalidInputError);
    expect(() => decodeStrictBase64Unpadded('-_8')).toThrow(InvalidInputError);
  });
});

/** Whether `decode` accepts `text`, and if so whether it is exactly what `encode` writes back. */
function acceptsOnlyCanonical(
  text: string,
  decode: (t: string) => Buffer,
  encode: (b: Buffer) => string,
): boolean {
  let bytes: Buffer;
  try {
    bytes = decode(text);
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err;
    // Refused: then no byte string encodes to it.
    const lenient = Buffer.from(
      text,
      text.includes('-') || text.includes('_') ? 'base64url' : 'base64',
    );
    return encode(lenient) !== text;
  }
  return encode(bytes) === text;
}

describe('strict decoders, property checks', () => {
  const chars = 'AQgw+/-_=.=A/Bz9';
  const texts = fc.string({ unit: fc.constantFrom(...chars), maxLength: 12 });
  const padded = (b: Buffer) => b.toString('base64');
  const unpadded = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
  const url = (b: Buffer) => b.toString('base64url');

  it('accept a string exactly when re-encoding gives it back', () => {
    fc.assert(
      fc.property(texts, (t) => {
        expect(acceptsOnlyCanonical(t, (x) => decodeStrictBase64(x), padded)).toBe(true);
        expect(acceptsOnlyCanonical(t, (x) => decodeStrictBase64Unpadded(x), unpadded)).toBe(true);
        expect(acceptsOnlyCanonical(t, (x) => decodeBase64url(x), url)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trip every byte string', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (raw) => {
        const b = Buffer.from(raw);
        expect(decodeStrictBase64(padded(b))).toEqual(b);
        expect(decodeStrictBase64Unpadded(unpadded(b))).toEqual(b);
        expect(decodeBase64url(url(b), b.length)).toEqual(b);
      }),
    );
  });
});

describe('alphabet tables', () => {
  it('give each alphabet character its digit value and -1 to everything else', () => {
    const check = (table: Readonly<Int8Array>, alphabet: string) => {
      for (let code = 0; code < 128; code++) {
        expect(table[code]).toBe(alphabet.indexOf(String.fromCharCode(code)));
      }
    };
    check(BASE62_VALUES, '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz');
    check(BASE64URL_VALUES, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_');
    check(BASE64_VALUES, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
  });
});

describe('crc32', () => {
  it('has a byte table that gives the same checksum as zlib', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        let c = -1;
        for (const b of bytes) c = CRC32_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
        expect((c ^ -1) >>> 0).toBe(crc32(bytes));
      }),
    );
  });

  it('matches the standard check value for "123456789"', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('returns an unsigned 32-bit integer', () => {
    expect(crc32('')).toBe(0);
    const value = crc32('The quick brown fox jumps over the lazy dog');
    expect(value).toBe(0x414fa339);
    expect(value).toBeGreaterThan(0);
  });

  it('rejects values that are neither strings nor bytes', () => {
    expect(() => crc32(5 as unknown as string)).toThrow(TypeError);
  });
});

describe('encodeLengthPrefixed', () => {
  it('prefixes each part with its UTF-8 byte length, big-endian', () => {
    expect(encodeLengthPrefixed(['a', 'é'])).toEqual(
      Buffer.from([0, 0, 0, 1, 0x61, 0, 0, 0, 2, 0xc3, 0xa9]),
    );
  });

  it('keeps lists that concatenate to the same text apart', () => {
    expect(encodeLengthPrefixed(['ab', 'c']).equals(encodeLengthPrefixed(['a', 'bc']))).toBe(false);
    expect(encodeLengthPrefixed(['', 'a']).equals(encodeLengthPrefixed(['a', '']))).toBe(false);
  });
});
