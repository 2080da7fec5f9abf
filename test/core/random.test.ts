import { describe, expect, it } from 'vitest';
import {
  randomAlphabetCode,
  randomBytes,
  randomId62,
  randomNumericCode,
  randomSecret,
  randomUUID,
} from '../../src/core/random.js';

describe('randomBytes', () => {
  it('returns exactly n bytes, and different bytes on each call', () => {
    const a = randomBytes(32);
    const b = randomBytes(32);
    expect(a).toBeInstanceOf(Buffer);
    expect(a.length).toBe(32);
    expect(a.equals(b)).toBe(false);
  });

  it('rejects sizes outside 1..1024 and non-integers with a RangeError', () => {
    for (const n of [0, -1, 1025, 1.5, Number.NaN]) {
      expect(() => randomBytes(n)).toThrow(RangeError);
    }
    expect(randomBytes(1).length).toBe(1);
    expect(randomBytes(1024).length).toBe(1024);
  });
});

describe('randomNumericCode', () => {
  it('returns only digits, of the requested length, leading zeros allowed', () => {
    const codes = Array.from({ length: 500 }, () => randomNumericCode(8));
    for (const code of codes) expect(code).toMatch(/^[0-9]{8}$/);
    expect(codes.some((c) => c.startsWith('0'))).toBe(true);
  });

  it('uses every digit (no digit is unreachable)', () => {
    const seen = new Set(randomNumericCode(64) + randomNumericCode(64) + randomNumericCode(64));
    expect(seen.size).toBe(10);
  });

  it('rejects lengths outside 1..64', () => {
    expect(() => randomNumericCode(0)).toThrow(RangeError);
    expect(() => randomNumericCode(65)).toThrow(RangeError);
    expect(randomNumericCode(1)).toMatch(/^[0-9]$/);
  });
});

describe('randomAlphabetCode', () => {
  it('draws only characters of the alphabet', () => {
    const code = randomAlphabetCode('ABC', 200);
    expect(code).toMatch(/^[ABC]{200}$/);
    expect(new Set(code).size).toBe(3);
  });

  it('treats astral characters as single characters', () => {
    const code = randomAlphabetCode('😀😎', 10);
    expect(Array.from(code)).toHaveLength(10);
    expect(code).toMatch(/^(😀|😎)+$/u);
  });

  it('rejects bad alphabets and lengths', () => {
    expect(() => randomAlphabetCode(42 as unknown as string, 4)).toThrow(TypeError);
    expect(() => randomAlphabetCode('A', 4)).toThrow(RangeError);
    expect(() => randomAlphabetCode('AAB', 4)).toThrow(RangeError);
    expect(() => randomAlphabetCode('xy', 0)).toThrow(RangeError);
    expect(() => randomAlphabetCode('xy', 257)).toThrow(RangeError);
    const big = Array.from({ length: 257 }, (_, i) => String.fromCodePoint(0x100 + i)).join('');
    expect(() => randomAlphabetCode(big, 4)).toThrow(RangeError);
  });
});

describe('randomUUID', () => {
  it('returns a version 4 UUID', () => {
    expect(randomUUID()).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});

describe('randomSecret', () => {
  it('defaults to 32 bytes as 43 unpadded base64url characters', () => {
    const s = randomSecret();
    expect(s).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(s, 'base64url').length).toBe(32);
  });

  it('honours the byte count', () => {
    expect(Buffer.from(randomSecret(16), 'base64url').length).toBe(16);
    expect(() => randomSecret(0)).toThrow(RangeError);
  });
});

describe('randomId62', () => {
  it('defaults to 22 base62 characters', () => {
    expect(randomId62()).toMatch(/^[0-9A-Za-z]{22}$/);
  });

  it('reaches all 62 characters', () => {
    const seen = new Set(randomId62(256) + randomId62(256) + randomId62(256) + randomId62(256));
    expect(seen.size).toBe(62);
  });

  it('rejects lengths outside 1..256', () => {
    expect(() => randomId62(0)).toThrow(RangeError);
    expect(() => randomId62(257)).toThrow(RangeError);
    expect(randomId62(21)).toHaveLength(21);
  });
});
