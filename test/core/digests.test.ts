/**
 * SHA-256 digests as latin1 strings and their constant-time comparison, the
 * allocation-free path of the access-token check.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digestsEqual, sha256Latin1 } from '../../src/core/hashing.js';

describe('sha256Latin1', () => {
  it('is the SHA-256 digest, one latin1 character per byte', () => {
    for (let n = 0; n < 100; n += 9) {
      const data = randomBytes(n);
      const text = sha256Latin1(data);
      expect(text).toHaveLength(32);
      expect(Buffer.from(text, 'latin1')).toEqual(createHash('sha256').update(data).digest());
    }
    expect(Buffer.from(sha256Latin1(Buffer.from('abc')), 'latin1').toString('hex')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});

describe('digestsEqual', () => {
  const digest = Buffer.from(sha256Latin1(Buffer.from('secret')), 'latin1');

  it('answers true for the same bytes, whatever string objects hold them', () => {
    const a = digest.toString('latin1');
    const b = Buffer.from(digest).toString('latin1');
    expect(digestsEqual(a, b)).toBe(true);
    expect(digestsEqual(`${a.slice(0, 16)}${a.slice(16)}`, b)).toBe(true);
  });

  it('answers false when any single bit of any byte differs', () => {
    const a = digest.toString('latin1');
    for (let i = 0; i < 32; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const other = Buffer.from(digest);
        other[i] = (other[i] as number) ^ (1 << bit);
        expect(digestsEqual(a, other.toString('latin1'))).toBe(false);
      }
    }
  });

  it('answers false for different lengths, including a prefix', () => {
    const a = digest.toString('latin1');
    expect(digestsEqual(a, a.slice(0, 31))).toBe(false);
    expect(digestsEqual(a, `${a}\u0000`)).toBe(false);
    expect(digestsEqual('', a)).toBe(false);
    expect(digestsEqual('', '')).toBe(true);
  });
});
