import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createTokenCodec,
  generateTokenId,
  isTokenId,
  MAX_TOKEN_LENGTH,
  tokenChecksum,
} from '../../src/access-tokens/index.js';
import { encodeBase62 } from '../../src/core/encoding/base62.js';
import { decodeBase64url, decodeStrictBase64 } from '../../src/core/encoding/base64url.js';
import { crc32 } from '../../src/core/encoding/crc32.js';

const codec = createTokenCodec();
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function parts(token: string) {
  const parsed = codec.parse(token);
  return parsed.ok ? `${parsed.format}|${parsed.tokenId}|${parsed.secret.toString('hex')}` : null;
}

describe('token ids', () => {
  it('are 21 base62 characters, the shape of the seed ids', () => {
    for (let i = 0; i < 50; i++) expect(generateTokenId()).toMatch(/^[A-Za-z0-9]{21}$/);
    expect(isTokenId('34NwRzvnBbgI3uedkrQ3Q')).toBe(true);
    expect(isTokenId('34NwRzvnBbgI3uedkrQ3')).toBe(false);
    expect(isTokenId('34NwRzvnBbgI3uedkrQ3-')).toBe(false);
    expect(isTokenId(42)).toBe(false);
  });
});

describe('the checksummed format', () => {
  it('is prefix, 21-char id, 43-char base64url secret and a 6-char base62 CRC-32', () => {
    const id = generateTokenId();
    const secret = randomBytes(32);
    const token = codec.format(id, secret, 'tessera');
    expect(token).toMatch(/^pat_[A-Za-z0-9]{21}[A-Za-z0-9_-]{43}[A-Za-z0-9]{6}$/);
    expect(token.slice(4, 25)).toBe(id);
    expect(token.slice(25, 68)).toBe(secret.toString('base64url'));
    expect(token.slice(68)).toBe(tokenChecksum(token.slice(0, 68)));
    expect(codec.parse(token)).toEqual({ ok: true, tokenId: id, secret, format: 'tessera' });
  });

  it('writes the checksum as the 6-digit base62 of the CRC-32, padded with zeros', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const bytes = Buffer.alloc(4);
        bytes.writeUInt32BE(crc32(text), 0);
        return tokenChecksum(text) === encodeBase62(bytes, 6);
      }),
    );
    expect(tokenChecksum('')).toBe('000000');
    expect(tokenChecksum('123456789')).toMatch(/^[A-Za-z0-9]{6}$/);
  });

  it('rejects every single-character change offline (invalid_format)', () => {
    const token = codec.format(generateTokenId(), randomBytes(32), 'tessera');
    for (let i = 4; i < token.length; i++) {
      for (const c of ['0', 'a', 'Z', '-', '_']) {
        if (token[i] === c) continue;
        const typo = token.slice(0, i) + c + token.slice(i + 1);
        expect(codec.parse(typo)).toEqual({ ok: false, reason: 'invalid_format' });
      }
    }
  });

  it('accepts only the canonical spelling of the secret, even with a matching checksum', () => {
    const token = codec.format(generateTokenId(), randomBytes(32), 'tessera');
    const head = token.slice(0, 68);
    const last = head.at(-1)!;
    // The 43rd character carries 4 data bits and 2 zero bits: flip a zero bit.
    const twin = B64URL[(B64URL.indexOf(last) ^ 1) % 64]!;
    const forged = head.slice(0, -1) + twin;
    expect(Buffer.from(forged.slice(25), 'base64url')).toEqual(
      Buffer.from(head.slice(25), 'base64url'),
    );
    expect(codec.parse(forged + tokenChecksum(forged))).toEqual({
      ok: false,
      reason: 'invalid_format',
    });
  });

  it('rejects the wrong prefix first, then anything too long or malformed', () => {
    const token = codec.format(generateTokenId(), randomBytes(32), 'tessera');
    expect(codec.parse('')).toEqual({ ok: false, reason: 'invalid_prefix' });
    expect(codec.parse(`ghp_${token.slice(4)}`)).toEqual({ ok: false, reason: 'invalid_prefix' });
    expect(codec.parse(`PAT_${token.slice(4)}`)).toEqual({ ok: false, reason: 'invalid_prefix' });
    expect(codec.parse(`pat_${'a'.repeat(MAX_TOKEN_LENGTH)}`).ok).toBe(false);
    for (const bad of [null, undefined, 12, {}, `${token} `, token.slice(0, -1), `${token}0`]) {
      expect(codec.parse(bad)).toEqual({ ok: false, reason: 'invalid_format' });
    }
  });

  it('uses a configurable prefix and secret size', () => {
    const custom = createTokenCodec({ prefix: 'acme_live_', secretBytes: 16 });
    const token = custom.format(generateTokenId(), randomBytes(16), 'tessera');
    expect(token).toMatch(/^acme_live_[A-Za-z0-9]{21}[A-Za-z0-9_-]{22}[A-Za-z0-9]{6}$/);
    expect(custom.parse(token).ok).toBe(true);
    expect(codec.parse(token).ok).toBe(false);
    for (const prefix of ['', 'a.b', '_pat', 'x'.repeat(33), 'pat ']) {
      expect(() => createTokenCodec({ prefix })).toThrow(TypeError);
    }
    expect(() => createTokenCodec({ secretBytes: 15 })).toThrow(RangeError);
    expect(() => createTokenCodec({ secretBytes: 65 })).toThrow(RangeError);
    expect(() => codec.format('short', randomBytes(32), 'tessera')).toThrow(RangeError);
    expect(() => codec.format(generateTokenId(), randomBytes(31), 'tessera')).toThrow(RangeError);
  });
});

describe("the seed's legacy format", () => {
  const id = '34NwRzvnBbgI3uedkrQ3Q';
  const secret = Buffer.from(`fb${'00'.repeat(15)}${'ff'.repeat(15)}3e`, 'hex');
  const token = codec.format(id, secret, 'legacy');

  it('is written as the seed writes it: padded standard base64', () => {
    expect(token).toBe(`pat_${id}.${secret.toString('base64')}`);
    expect(token).toMatch(/^pat_[a-zA-Z0-9]{21}\.[a-zA-Z0-9+/]{43}=$/);
    expect(codec.parse(token)).toEqual({ ok: true, tokenId: id, secret, format: 'legacy' });
  });

  it("rejects the spellings the seed's lax decoder accepted for the same secret", () => {
    const b64 = secret.toString('base64');
    const last = b64.at(-2)!;
    const std = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const twin = std[std.indexOf(last) ^ 1]!;
    const junk = [
      `pat_${id}.${b64.slice(0, -1)}`, // padding dropped
      `pat_${id}.${b64}@@`, // junk appended
      `pat_${id}.${b64}=zz`, // junk after the padding
      `pat_${id}.${b64.replace(/\+/g, '-').replace(/\//g, '_')}`, // url-safe alphabet
      `pat_${id}.${b64.slice(0, -2)}${twin}=`, // non-zero trailing bits
      `pat_${id}.${b64.slice(0, 10)},:;<>?@[\\]^${b64.slice(21)}`, // the 0x2B..0x5F range
      `pat_${id}.${b64.slice(0, 10)} ${b64.slice(10)}`, // whitespace
      `pat_${id}.${b64}=`, // extra padding
      `pat_${id}..${b64}`,
      `pat_${id}.${b64}.x`,
      `pat_${id}x.${b64}`,
      `pat_${id.slice(1)}.${b64}`,
      `pat_${id.slice(0, -1)}-.${b64}`,
      `pat_${id}.${randomBytes(31).toString('base64')}`, // wrong secret size
      `pat_${id}.${randomBytes(33).toString('base64')}`,
    ];
    for (const t of junk) {
      expect(t).not.toBe(token);
      expect(codec.parse(t), t).toEqual({ ok: false, reason: 'invalid_format' });
    }
    // The seed decodes many of them to the very same bytes:
    expect(Buffer.from(b64.slice(0, -1), 'base64')).toEqual(secret);
    expect(Buffer.from(`${b64}@@`, 'base64')).toEqual(secret);
  });

  it('rejects a legacy token over 200 characters as the seed does', () => {
    const long = createTokenCodec({ prefix: 'p'.repeat(32), secretBytes: 64 });
    const t = long.format(id, randomBytes(64), 'legacy');
    expect(t.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
    expect(long.parse(t).ok).toBe(true);
    expect(codec.parse(`pat_${id}.${'A'.repeat(200)}=`)).toEqual({
      ok: false,
      reason: 'invalid_format',
    });
  });
});

describe('canonical parsing', () => {
  it('never lets two different strings parse as the same token', () => {
    const alphabet = `${B64URL}+/=.@ `;
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.constantFrom<'tessera' | 'legacy'>('tessera', 'legacy'),
        fc.nat(),
        fc.constantFrom(...alphabet),
        fc.constantFrom('replace', 'insert', 'delete'),
        (bytes, kind, at, ch, edit) => {
          const token = codec.format('34NwRzvnBbgI3uedkrQ3Q', Buffer.from(bytes), kind);
          const i = 4 + (at % (token.length - 4));
          const mutated =
            edit === 'replace'
              ? token.slice(0, i) + ch + token.slice(i + 1)
              : edit === 'insert'
                ? token.slice(0, i) + ch + token.slice(i)
                : token.slice(0, i) + token.slice(i + 1);
          if (mutated === token) return true;
          const a = parts(token);
          const b = parts(mutated);
          return a !== null && b !== a;
        },
      ),
      { numRuns: 2000 },
    );
  });
});

/** The parse rules written plainly (regular expressions and the core decoders), to compare. */
function referenceParse(token: string, prefix: string, secretBytes: number) {
  if (!token.startsWith(prefix)) return { ok: false, reason: 'invalid_prefix' };
  const fail = { ok: false, reason: 'invalid_format' };
  if (token.length > MAX_TOKEN_LENGTH) return fail;
  const body = token.slice(prefix.length);
  try {
    if (body.includes('.')) {
      const [id, text, ...rest] = body.split('.');
      if (rest.length > 0 || !isTokenId(id)) return fail;
      return {
        ok: true,
        tokenId: id,
        secret: decodeStrictBase64(text!, secretBytes),
        format: 'legacy',
      };
    }
    const head = token.slice(0, -6);
    if (!/^[A-Za-z0-9]{6}$/.test(body.slice(-6)) || tokenChecksum(head) !== body.slice(-6)) {
      return fail;
    }
    const id = body.slice(0, 21);
    if (!isTokenId(id)) return fail;
    const secret = decodeBase64url(body.slice(21, -6), secretBytes);
    return { ok: true, tokenId: id, secret, format: 'tessera' };
  } catch {
    return fail;
  }
}

describe('the single-pass parser', () => {
  it('refuses non-zero spare bits in the last secret character at every secret size', () => {
    for (let size = 16; size <= 64; size++) {
      const c = createTokenCodec({ secretBytes: size });
      const token = c.format(generateTokenId(), randomBytes(size), 'tessera');
      const end = token.length - 6;
      const last = B64URL.indexOf(token[end - 1]!);
      const spare = size % 3 === 1 ? 0b1111 : size % 3 === 2 ? 0b11 : 0;
      for (let v = 0; v < 64; v++) {
        if ((v & ~spare) !== (last & ~spare)) continue; // same data bits only
        const head = token.slice(0, end - 1) + B64URL[v];
        const parsed = c.parse(head + tokenChecksum(head));
        expect(parsed.ok, `size ${size}, spare bits ${v & spare}`).toBe(v === last);
      }
    }
  });

  it('agrees with the plainly written rules on edited tokens, checksum fixed up or not', () => {
    const alphabet = `${B64URL}+/=.@ \u00e9\u0100\u{1f600}`;
    fc.assert(
      fc.property(
        fc.constantFrom('pat_', 'acme_live_', 'x'),
        fc.constantFrom(16, 31, 32, 33, 64),
        fc.constantFrom<'tessera' | 'legacy'>('tessera', 'legacy'),
        fc.nat(),
        fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 3 }),
        fc.nat({ max: 3 }),
        fc.boolean(),
        (prefix, size, kind, at, insert, remove, fixChecksum) => {
          const c = createTokenCodec({ prefix, secretBytes: size });
          const token = c.format(generateTokenId(), randomBytes(size), kind);
          const i = prefix.length + (at % (token.length - prefix.length));
          let edited = token.slice(0, i) + insert + token.slice(i + remove);
          if (fixChecksum && kind === 'tessera') {
            edited = edited.slice(0, -6) + tokenChecksum(edited.slice(0, -6));
          }
          expect(c.parse(edited)).toEqual(referenceParse(edited, prefix, size));
          expect(c.parse(token)).toEqual(referenceParse(token, prefix, size));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
