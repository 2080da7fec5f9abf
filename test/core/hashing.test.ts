import * as nodeCrypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import {
  createHmacHasher,
  parsePhc,
  SCRYPT_LIMITS,
  scryptParamsError,
  scryptPhc,
  sha256,
  sha256Into,
  sha256Phc,
  timingSafeEqualStrings,
  verifyPhc,
} from '../../src/core/hashing.js';
import { createKeyring } from '../../src/core/keyring.js';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, scrypt: vi.fn(actual.scrypt) };
});

const scryptSpy = vi.mocked(nodeCrypto.scrypt);
const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');

// RFC 7914 §12, second vector: scrypt("pleaseletmein", "SodiumChloride", N=16384, r=8, p=1, 64).
const RFC_HASH = Buffer.from(
  '7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2' +
    'd5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887',
  'hex',
);
const RFC_PHC = `$scrypt$ln=14,r=8,p=1$${b64(Buffer.from('SodiumChloride'))}$${b64(RFC_HASH)}`;
const SALT16 = b64(Buffer.alloc(16, 7));
const HASH32 = b64(Buffer.alloc(32, 9));

beforeEach(() => {
  scryptSpy.mockClear();
});

describe('sha256', () => {
  it('is the SHA-256 digest of the bytes', () => {
    expect(sha256(Buffer.from('abc')).toString('hex')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    for (let n = 0; n < 70; n += 7) {
      const data = nodeCrypto.randomBytes(n);
      expect(sha256(data)).toEqual(nodeCrypto.createHash('sha256').update(data).digest());
    }
  });

  it('writes the digest into a buffer at an offset, and only there', () => {
    const data = nodeCrypto.randomBytes(32);
    const out = Buffer.alloc(40, 0xaa);
    sha256Into(data, out, 4);
    expect(out.subarray(4, 36)).toEqual(sha256(data));
    expect([...out.subarray(0, 4), ...out.subarray(36)]).toEqual(Array(8).fill(0xaa));
    expect(() => sha256Into(data, out, 9)).toThrow(RangeError);
    expect(() => sha256Into(data, out, -1)).toThrow(RangeError);
  });
});

describe('sha256Phc', () => {
  it('writes $sha256$ and the unpadded base64 SHA-256 digest', () => {
    expect(sha256Phc('abc')).toBe('$sha256$ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0');
    expect(sha256Phc(Buffer.from('abc'))).toBe(sha256Phc('abc'));
  });

  it('verifies the right secret and rejects a wrong one', async () => {
    const phc = sha256Phc('s3cret-with-plenty-of-entropy');
    expect(await verifyPhc('s3cret-with-plenty-of-entropy', phc)).toEqual({ valid: true });
    expect(await verifyPhc('other', phc)).toEqual({ valid: false, reason: 'invalid_secret' });
  });

  it('rejects a truncated digest or stray parameters as invalid_parameters', async () => {
    const short = `$sha256$${b64(Buffer.alloc(16))}`;
    expect(await verifyPhc('x', short)).toMatchObject({ reason: 'invalid_parameters' });
    const extra = `$sha256$k=a$${HASH32}`;
    expect(await verifyPhc('x', extra)).toMatchObject({ reason: 'invalid_parameters' });
  });
});

describe('parsePhc', () => {
  it('splits id, version, parameters, salt and hash', () => {
    const parsed = parsePhc(`$argon2id$v=19$m=65536,t=3,p=4$${SALT16}$${HASH32}`);
    expect(parsed.id).toBe('argon2id');
    expect(parsed.version).toBe(19);
    expect({ ...parsed.params }).toEqual({ m: '65536', t: '3', p: '4' });
    expect(parsed.salt).toEqual(Buffer.alloc(16, 7));
    expect(parsed.hash).toEqual(Buffer.alloc(32, 9));
  });

  it('reads a lone B64 field as the hash', () => {
    const parsed = parsePhc(`$hmac-sha256$k=key_1$${HASH32}`);
    expect(parsed.params.k).toBe('key_1');
    expect(parsed.salt).toBeUndefined();
    expect(parsed.hash).toEqual(Buffer.alloc(32, 9));
  });

  it('throws InvalidInputError on malformed strings', () => {
    const bad = [
      '',
      'scrypt$ln=1',
      '$fake',
      '$UPPER$x',
      '$scrypt$ln=14,ln=15',
      `$scrypt$ln=14$${SALT16}=$${HASH32}`,
      `$scrypt$ln=14$${SALT16}$${HASH32}$${HASH32}`,
      `$scrypt$ln=14$$${HASH32}`,
      `$x$${'A'.repeat(1100)}`,
    ];
    for (const phc of bad) expect(() => parsePhc(phc), phc).toThrow(InvalidInputError);
  });
});

describe('verifyPhc with scrypt', () => {
  it('verifies the RFC 7914 vector written in @access-tokens PHC form', async () => {
    expect(await verifyPhc('pleaseletmein', RFC_PHC)).toEqual({ valid: true });
    expect(scryptSpy).toHaveBeenCalledTimes(1);
  });

  it('verifies a PHC made with node:crypto using the seed defaults (ln=14, r=8, p=1, 16/32 bytes)', async () => {
    const salt = nodeCrypto.randomBytes(16);
    const hash = nodeCrypto.scryptSync('pat-secret', salt, 32, { N: 16384, r: 8, p: 1 });
    const phc = `$scrypt$ln=14,r=8,p=1$${b64(salt)}$${b64(hash)}`;
    expect(phc).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await verifyPhc('pat-secret', phc)).toEqual({ valid: true });
    expect(await verifyPhc('pat-secreT', phc)).toEqual({ valid: false, reason: 'invalid_secret' });
  });

  it('rejects out-of-bounds parameters as invalid_parameters without running scrypt', async () => {
    const cases = [
      `$scrypt$ln=30,r=8,p=1$${SALT16}$${HASH32}`,
      `$scrypt$ln=0,r=8,p=1$${SALT16}$${HASH32}`,
      `$scrypt$ln=14,r=33,p=1$${SALT16}$${HASH32}`,
      `$scrypt$ln=14,r=8,p=17$${SALT16}$${HASH32}`,
      `$scrypt$ln=20,r=8,p=1$${SALT16}$${HASH32}`, // 1 GiB
      `$scrypt$ln=17,r=16,p=16$${SALT16}$${HASH32}`, // 256 MiB, N*r*p = 2^25
      `$scrypt$ln=15,r=9,p=1$${SALT16}$${HASH32}`, // 36 MiB
      `$scrypt$ln=14,r=9,p=8$${SALT16}$${HASH32}`, // N*r*p > 2^20
      `$scrypt$ln=16,r=1,p=1$${SALT16}$${HASH32}`, // N = 2^(16*r)
      `$scrypt$ln=10,r=8,p=16$${b64(Buffer.from('NaCl'))}$${HASH32}`, // 4-byte salt
      `$scrypt$ln=14,r=8,p=1$${SALT16}$${b64(Buffer.alloc(8))}`, // 8-byte hash
      `$scrypt$ln=14,r=8,p=1$${SALT16}$${b64(Buffer.alloc(65))}`, // 65-byte hash
    ];
    for (const phc of cases) {
      const result = await verifyPhc('secret', phc);
      expect(result, phc).toMatchObject({ valid: false, reason: 'invalid_parameters' });
    }
    expect(scryptSpy).not.toHaveBeenCalled();
  });

  it('rejects missing, non-numeric or unexpected parameters as invalid_parameters', async () => {
    const cases = [
      `$scrypt$r=8,p=1$${SALT16}$${HASH32}`,
      `$scrypt$ln=14,r=8$${SALT16}$${HASH32}`,
      `$scrypt$ln=14,r=8,p=1$${HASH32}`,
      '$scrypt$ln=14,r=8,p=1',
      `$scrypt$ln=fourteen,r=8,p=1$${SALT16}$${HASH32}`,
      `$scrypt$ln=014,r=8,p=1$${SALT16}$${HASH32}`,
      `$scrypt$ln=14,r=8,p=1,x=1$${SALT16}$${HASH32}`,
      `$scrypt$v=1$ln=14,r=8,p=1$${SALT16}$${HASH32}`,
    ];
    for (const phc of cases) {
      const result = await verifyPhc('secret', phc);
      expect(result, phc).toMatchObject({ valid: false, reason: 'invalid_parameters' });
    }
    expect(scryptSpy).not.toHaveBeenCalled();
  });

  it('reports unparseable strings as invalid_phc with the parse error as cause', async () => {
    for (const phc of ['$fake', '', 'nope', '$scrypt']) {
      const result = await verifyPhc('secret', phc);
      expect(result, phc).toMatchObject({ valid: false, reason: 'invalid_phc' });
      expect((result as { cause?: unknown }).cause).toBeInstanceOf(InvalidInputError);
    }
  });

  it('reports non-canonical base64 in the salt or hash as invalid_phc', async () => {
    const saltBits = `${SALT16.slice(0, -1)}x`; // 'x' leaves non-zero trailing bits
    expect(Buffer.from(saltBits, 'base64').length).toBe(16);
    const cases = [
      `$scrypt$ln=14,r=8,p=1$${saltBits}$${HASH32}`,
      `$scrypt$ln=14,r=8,p=1$${SALT16}==$${HASH32}`,
      `$scrypt$ln=14,r=8,p=1$${SALT16}$${HASH32.replace(/\//g, '_')}_`,
    ];
    for (const phc of cases) {
      expect(await verifyPhc('s', phc), phc).toMatchObject({ reason: 'invalid_phc' });
    }
  });

  it('reports other algorithms as unsupported_algorithm', async () => {
    const phc = `$argon2id$v=19$m=65536,t=3,p=4$${SALT16}$${HASH32}`;
    expect(await verifyPhc('secret', phc)).toEqual({
      valid: false,
      reason: 'unsupported_algorithm',
    });
  });
});

describe('scrypt limits', () => {
  const ok = { ln: 14, r: 8, p: 1, saltBytes: 16, keyBytes: 32 };
  const check = (o: Partial<typeof ok>) => scryptParamsError({ ...ok, ...o });

  it('admits the seed defaults and every bound itself, and refuses one step past each', () => {
    expect(check({})).toBeUndefined();
    const sides: Array<[Partial<typeof ok>, Partial<typeof ok>, string]> = [
      [{ ln: 1, r: 1 }, { ln: 0 }, 'ln must be in 1..17'],
      [{ ln: 17, r: 2 }, { ln: 18, r: 1 }, 'ln must be in 1..17'],
      [{ ln: 12, r: 32 }, { ln: 12, r: 33 }, 'r must be in 1..32'],
      [{ ln: 10, p: 16 }, { ln: 10, p: 17 }, 'p must be in 1..16'],
      // 128*N*r = 32 MiB, then 36 MiB (work 2^18 and 9*2^15, both under 2^20).
      [{ ln: 15, r: 8 }, { ln: 15, r: 9 }, '128*N*r must be at most 32 MiB'],
      // N*r*p = 2^20, then 9*2^17 (16 and 18 MiB).
      [{ ln: 14, r: 8, p: 8 }, { ln: 14, r: 9, p: 8 }, 'N*r*p must be at most 2^20'],
      // RFC 7914: N < 2^(16*r).
      [{ ln: 15, r: 1 }, { ln: 16, r: 1 }, 'N must be below 2^(16*r)'],
      [{ saltBytes: 8 }, { saltBytes: 7 }, 'saltBytes must be in 8..64'],
      [{ saltBytes: 64 }, { saltBytes: 65 }, 'saltBytes must be in 8..64'],
      [{ keyBytes: 16 }, { keyBytes: 15 }, 'keyBytes must be in 16..64'],
      [{ keyBytes: 64 }, { keyBytes: 65 }, 'keyBytes must be in 16..64'],
    ];
    for (const [inside, outside, message] of sides) {
      expect(check(inside), JSON.stringify(inside)).toBeUndefined();
      expect(check(outside), JSON.stringify(outside)).toBe(message);
    }
    expect(SCRYPT_LIMITS.memoryBytes).toBe(32 * 1024 * 1024);
    expect(SCRYPT_LIMITS.work).toBe(2 ** 20);
  });

  it('verifies hashes at the memory bound and at the work bound, and refuses them one step past', async () => {
    const made = (ln: number, r: number, p: number) => {
      const salt = nodeCrypto.randomBytes(16);
      const N = 2 ** ln;
      const maxmem = 128 * r * (N + p + 2) + 2 ** 20;
      const hash = nodeCrypto.scryptSync('s', salt, 32, { N, r, p, maxmem });
      return `$scrypt$ln=${ln},r=${r},p=${p}$${b64(salt)}$${b64(hash)}`;
    };
    // 32 MiB (work 2^18), and work 2^20 (8 MiB): the cheapest strings on each bound.
    for (const [ln, r, p] of [
      [15, 8, 1],
      [13, 8, 16],
    ] as const) {
      const phc = made(ln, r, p);
      expect(await verifyPhc('s', phc), phc).toEqual({ valid: true });
      expect(await verifyPhc('t', phc), phc).toEqual({ valid: false, reason: 'invalid_secret' });
    }
    scryptSpy.mockClear();
    for (const [ln, r, p] of [
      [15, 9, 1],
      [13, 9, 16],
    ] as const) {
      const phc = `$scrypt$ln=${ln},r=${r},p=${p}$${SALT16}$${HASH32}`;
      expect(await verifyPhc('s', phc), phc).toMatchObject({ reason: 'invalid_parameters' });
    }
    expect(scryptSpy).not.toHaveBeenCalled();
  });
});

describe('scryptPhc', () => {
  it('writes the @access-tokens format with the seed defaults and verifies', async () => {
    const phc = await scryptPhc('pat-secret');
    expect(phc).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await verifyPhc('pat-secret', phc)).toEqual({ valid: true });
  });

  it('honours custom parameters and refuses out-of-bounds ones', async () => {
    const phc = await scryptPhc('x', { ln: 10, r: 4, p: 2, saltBytes: 8, keyBytes: 64 });
    const parsed = parsePhc(phc);
    expect({ ...parsed.params }).toEqual({ ln: '10', r: '4', p: '2' });
    expect(parsed.salt?.length).toBe(8);
    expect(parsed.hash?.length).toBe(64);
    await expect(scryptPhc('x', { ln: 21 })).rejects.toThrow(RangeError);
    await expect(scryptPhc('x', { ln: 15, r: 8, p: 8 })).rejects.toThrow(
      new RangeError('N*r*p must be at most 2^20'),
    );
    await expect(scryptPhc('x', { saltBytes: 4 })).rejects.toThrow(RangeError);
  });
});

describe('createHmacHasher', () => {
  const k1 = { id: 'k1', secret: Buffer.alloc(32, 1) };
  const k2 = { id: 'k2', secret: Buffer.alloc(32, 2) };
  const before = createKeyring({ keys: [k1] });
  const after = createKeyring({ keys: [k2, k1] });

  it('writes $hmac-sha256$k=<activeId>$ and verifies under the keyring', async () => {
    const phc = createHmacHasher(before).hash('token-secret');
    expect(phc).toMatch(/^\$hmac-sha256\$k=k1\$[A-Za-z0-9+/]{43}$/);
    const expected = nodeCrypto
      .createHmac('sha256', before.deriveKey('hash', 'k1'))
      .update('token-secret')
      .digest();
    expect(phc.endsWith(b64(expected))).toBe(true);
    expect(await verifyPhc('token-secret', phc, { keyring: before })).toEqual({ valid: true });
    expect(await verifyPhc('token-secreT', phc, { keyring: before })).toEqual({
      valid: false,
      reason: 'invalid_secret',
    });
  });

  it('still verifies a hash made under a rotated-out key that is still listed', async () => {
    const phc = createHmacHasher(before).hash('token-secret');
    expect(createHmacHasher(after).hash('token-secret')).toMatch(/^\$hmac-sha256\$k=k2\$/);
    expect(await createHmacHasher(after).verify('token-secret', phc)).toEqual({ valid: true });
  });

  it('answers invalid_parameters for an unlisted key id or a missing keyring', async () => {
    const phc = createHmacHasher(after).hash('token-secret');
    expect(await verifyPhc('token-secret', phc, { keyring: before })).toMatchObject({
      reason: 'invalid_parameters',
    });
    expect(await verifyPhc('token-secret', phc)).toMatchObject({ reason: 'invalid_parameters' });
  });

  it('binds the hash to its purpose', async () => {
    const phc = createHmacHasher(before, 'pat').hash('token-secret');
    expect(await verifyPhc('token-secret', phc, { keyring: before })).toMatchObject({
      reason: 'invalid_secret',
    });
    expect(await verifyPhc('token-secret', phc, { keyring: before, purpose: 'pat' })).toEqual({
      valid: true,
    });
  });

  it('digests parts unambiguously as base64url', () => {
    const hasher = createHmacHasher(before);
    const d = hasher.digest(['user-1', 'login', '12345678']);
    expect(d).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hasher.digest(['user-1', 'login', '12345678'])).toBe(d);
    expect(hasher.digest(['user-1', 'login1', '2345678'])).not.toBe(d);
    expect(hasher.digest(['user-1login', '12345678'])).not.toBe(d);
    expect(hasher.digest(['user-1', 'login', '12345678'], 'k1')).toBe(d);
    expect(() => hasher.digest(['a'], 'nope')).toThrow(/key/i);
  });

  it('never lets a digest equal the hash of the same bytes', () => {
    const hasher = createHmacHasher(before);
    const encoded = Buffer.from([0, 0, 0, 1, 0x61]).toString('latin1');
    const hashB64 = hasher.hash(encoded).split('$')[3]!;
    const digest = Buffer.from(hasher.digest(['a']), 'base64url');
    expect(digest.toString('base64').replace(/=+$/, '')).not.toBe(hashB64);
  });

  it('digests under every key, active first, for lookups across a rotation', () => {
    const parts = ['user-1', 'reset', 'abcdef'];
    const hasher = createHmacHasher(after);
    const all = hasher.digestAll(parts);
    expect(all).toEqual([hasher.digest(parts, 'k2'), hasher.digest(parts, 'k1')]);
    expect(all[0]).toBe(hasher.digest(parts));
    expect(all[1]).toBe(createHmacHasher(before).digest(parts));
    expect(all[0]).not.toBe(all[1]);
    const oldActive = createKeyring({ keys: [k2, k1], activeId: 'k1' });
    expect(createHmacHasher(oldActive).digestAll(parts)).toEqual([all[1], all[0]]);
  });

  it('rejects a non-keyring', () => {
    expect(() => createHmacHasher({} as never)).toThrow(TypeError);
    expect(() => createHmacHasher(before, '')).toThrow(TypeError);
  });
});

describe('timingSafeEqualStrings', () => {
  it('compares strings of any lengths', () => {
    expect(timingSafeEqualStrings('abc', 'abc')).toBe(true);
    expect(timingSafeEqualStrings('abc', 'abd')).toBe(false);
    expect(timingSafeEqualStrings('abc', 'abcd')).toBe(false);
    expect(timingSafeEqualStrings('', '')).toBe(true);
    expect(timingSafeEqualStrings(Buffer.from('é'), 'é')).toBe(true);
  });
});
