import { describe, expect, it } from 'vitest';
import { createValueHasher } from '../../src/action-tokens/value-hash.js';
import { createHmacHasher } from '../../src/core/hashing.js';
import { testKeyring } from '../../src/testing/action-tokens-suite.js';

const keyring = testKeyring();
const reference = createHmacHasher(keyring, 'action-tokens');
const fast = createValueHasher(keyring, 'action-tokens');

const samples: string[][] = [
  ['action-token', 'u1', 'verify-email', '12345678'],
  ['action-token', 'ü@example.com', 'réinitialiser', '€€€'],
  ['action-token', '𝄞', 'a', 'lone \ud800 surrogate'],
  ['action-token-lookup', 'login', 'x'.repeat(1024)],
  ['action-token', 'o'.repeat(256), 'a'.repeat(256), '€'.repeat(2000)],
  ['', '', ''],
  [],
];

describe('value hasher', () => {
  it('gives the same digest as the keyring hasher, byte for byte, under every key', () => {
    for (const parts of samples) {
      for (const kid of keyring.ids) {
        expect(fast.digest(parts, kid)).toBe(reference.digest(parts, kid));
      }
      expect(fast.digest(parts)).toBe(reference.digest(parts));
      expect(fast.digestAll(parts)).toEqual(reference.digestAll(parts));
    }
  });

  it('gives with a tag the digest of the tag followed by the parts, also after its buffer grew', () => {
    const tagged = fast.tagged('action-token');
    const check = () => {
      for (const parts of samples) {
        for (const kid of keyring.ids) {
          expect(tagged(parts, kid)).toBe(reference.digest(['action-token', ...parts], kid));
        }
        expect(tagged(parts)).toBe(reference.digest(['action-token', ...parts]));
      }
    };
    check();
    expect(tagged(['x', 'é'.repeat(10_000)])).toBe(
      reference.digest(['action-token', 'x', 'é'.repeat(10_000)]),
    );
    check();
  });

  it('gives the same digests again after a long input grew its buffer', () => {
    const before = samples.map((p) => fast.digest(p));
    fast.digest(['x', 'é'.repeat(10_000)]);
    expect(samples.map((p) => fast.digest(p))).toEqual(before);
  });

  it('tells inputs that only differ in where the parts split apart', () => {
    expect(fast.digest(['ab', 'c'])).not.toBe(fast.digest(['a', 'bc']));
  });

  it('refuses an unknown key id with KeyNotFoundError', () => {
    expect(() => fast.digest(['a'], 'nope')).toThrow(
      expect.objectContaining({ code: 'ERR_TESSERA_KEY_NOT_FOUND' }),
    );
  });

  it('uses the active key of the keyring by default', () => {
    const k2 = createValueHasher(testKeyring('k2'), 'action-tokens');
    expect(k2.digest(['a'])).toBe(reference.digest(['a'], 'k2'));
    expect(k2.digestAll(['a'])).toEqual([
      reference.digest(['a'], 'k2'),
      reference.digest(['a'], 'k1'),
    ]);
  });
});
