import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { estimateEntropyBits, MIN_LOOKUP_BITS } from '../../src/action-tokens/entropy.js';

describe('estimateEntropyBits', () => {
  it('counts the bits a character of the value’s alphabet carries', () => {
    expect(estimateEntropyBits('')).toBe(0);
    // Digits: log2(10) each.
    expect(estimateEntropyBits('1234567890123456789012')).toBe(73);
    expect(estimateEntropyBits('7'.repeat(34).replace(/7/g, (_, i) => String(i % 10)))).toBe(112);
    // Hex, either case: 4 bits each.
    expect(estimateEntropyBits('0123456789abcdef0123456789ab')).toBe(112);
    expect(estimateEntropyBits('0123456789ABCDEF0123456789A')).toBe(108);
    // Mixed case hex letters are no longer hex: 62-letter alphabet.
    expect(estimateEntropyBits('aBcD')).toBe(Math.floor(4 * Math.min(Math.log2(52), 2 + 1.5)));
  });

  it('caps the estimate by the variety of the value', () => {
    expect(estimateEntropyBits('a'.repeat(100))).toBe(0);
    expect(estimateEntropyBits('ab'.repeat(40))).toBe(80);
    expect(estimateEntropyBits('abcd'.repeat(10))).toBe(140);
    expect(estimateEntropyBits('abcd'.repeat(5))).toBeLessThan(MIN_LOOKUP_BITS);
  });

  it('passes random values of 128 bits and more in the usual encodings', () => {
    for (let i = 0; i < 2000; i++) {
      const b = randomBytes(16);
      expect(estimateEntropyBits(b.toString('base64url'))).toBeGreaterThanOrEqual(MIN_LOOKUP_BITS);
      expect(estimateEntropyBits(b.toString('hex'))).toBeGreaterThanOrEqual(MIN_LOOKUP_BITS);
      expect(estimateEntropyBits(crypto.randomUUID())).toBeGreaterThanOrEqual(MIN_LOOKUP_BITS);
    }
  });

  it('refuses short or low-variety values', () => {
    for (const v of [
      '123456',
      'alice@example.com',
      'password-password',
      'AAAAAAAAAAAAAAAAAAAAAA',
    ]) {
      expect(estimateEntropyBits(v), v).toBeLessThan(MIN_LOOKUP_BITS);
    }
  });
});
