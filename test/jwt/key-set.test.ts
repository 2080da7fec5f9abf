import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildSignerVerifier, generateKeySet } from '../../src/jwt/index.js';

describe('generateKeySet', () => {
  it('makes an Ed25519 key set in the seed shape by default', async () => {
    const ks = await generateKeySet('k1');
    expect(ks.active_kid).toBe('k1');
    expect(ks.private_keys).toHaveLength(1);
    expect(ks.public_keys).toHaveLength(1);
    expect(ks.private_keys[0]).toMatchObject({
      kty: 'OKP',
      crv: 'Ed25519',
      kid: 'k1',
      alg: 'EdDSA',
      use: 'sig',
    });
    expect(typeof ks.private_keys[0]?.d).toBe('string');
    expect(ks.public_keys[0]).toMatchObject({
      kty: 'OKP',
      crv: 'Ed25519',
      kid: 'k1',
      alg: 'EdDSA',
    });
    expect(ks.public_keys[0]?.d).toBeUndefined();
    expect(ks.public_keys[0]?.x).toBe(ks.private_keys[0]?.x);
  });

  it('makes a 2048-bit RSA key set for RS256', async () => {
    const ks = await generateKeySet('rsa-1', 'RS256');
    const pub = ks.public_keys[0]!;
    expect(pub).toMatchObject({ kty: 'RSA', kid: 'rsa-1', alg: 'RS256', use: 'sig', e: 'AQAB' });
    const key = createPublicKey({ key: pub as never, format: 'jwk' });
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it('makes a P-256 key set for ES256', async () => {
    const ks = await generateKeySet('ec-1', 'ES256');
    expect(ks.public_keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(ks.private_keys[0]?.d).toBeTypeOf('string');
  });

  it('rejects a bad kid or an unsupported algorithm', async () => {
    await expect(generateKeySet('')).rejects.toMatchObject({ code: 'ERR_TESSERA_INVALID_INPUT' });
    await expect(generateKeySet('a"b')).rejects.toMatchObject({
      code: 'ERR_TESSERA_INVALID_INPUT',
    });
    await expect(generateKeySet('k', 'HS256' as never)).rejects.toMatchObject({
      code: 'ERR_TESSERA_INVALID_INPUT',
    });
    await expect(generateKeySet('k', 'none' as never)).rejects.toMatchObject({
      code: 'ERR_TESSERA_INVALID_INPUT',
    });
  });
});

describe('buildSignerVerifier key checks', () => {
  it('reports the seed message when active_kid has no private key', async () => {
    const ks = await generateKeySet('k1');
    await expect(
      buildSignerVerifier({ keySet: { ...ks, active_kid: 'nope' }, issuer: 'i' }),
    ).rejects.toMatchObject({
      code: 'ERR_TESSERA_CONFIG',
      message: 'No private key found for active_kid nope',
    });
  });

  it("reports the seed message when the active key has no 'alg'", async () => {
    const ks = await generateKeySet('k1');
    const { alg: _alg, ...noAlg } = ks.private_keys[0]!;
    await expect(
      buildSignerVerifier({ keySet: { ...ks, private_keys: [noAlg] }, issuer: 'i' }),
    ).rejects.toMatchObject({ message: "Active key is missing 'alg' property" });
  });

  it('refuses a public key that does not match its private key', async () => {
    const a = await generateKeySet('k1');
    const b = await generateKeySet('k1');
    await expect(
      buildSignerVerifier({
        keySet: { ...a, public_keys: b.public_keys },
        issuer: 'i',
      }),
    ).rejects.toMatchObject({ code: 'ERR_TESSERA_CONFIG' });
  });

  it('refuses private members in public_keys', async () => {
    const ks = await generateKeySet('k1');
    await expect(
      buildSignerVerifier({ keySet: { ...ks, public_keys: ks.private_keys }, issuer: 'i' }),
    ).rejects.toMatchObject({ code: 'ERR_TESSERA_CONFIG' });
  });

  it('refuses an RSA key under 2048 bits', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'weak', alg: 'RS256' };
    await expect(
      buildSignerVerifier({
        keySet: { active_kid: 'weak', private_keys: [jwk], public_keys: [] },
        issuer: 'i',
      }),
    ).rejects.toThrow(/1024-bit RSA key/);
  });

  it('refuses a key whose type does not fit its alg, and HMAC keys', async () => {
    const ks = await generateKeySet('k1');
    const wrong = { ...ks.private_keys[0]!, alg: 'ES256' };
    await expect(
      buildSignerVerifier({
        keySet: { ...ks, private_keys: [wrong], public_keys: [] },
        issuer: 'i',
      }),
    ).rejects.toThrow(/does not fit ES256/);
    const oct = { kty: 'oct', k: 'c2VjcmV0', kid: 'h', alg: 'HS256' };
    await expect(
      buildSignerVerifier({
        keySet: { active_kid: 'h', private_keys: [oct], public_keys: [] },
        issuer: 'i',
      }),
    ).rejects.toThrow(/unsupported alg/);
  });

  it('refuses key_ops that allow neither sign nor verify, and accepts those that do', async () => {
    const ks = await generateKeySet('k1');
    const withOps = (ops: unknown) =>
      buildSignerVerifier({
        keySet: { ...ks, private_keys: [{ ...ks.private_keys[0]!, key_ops: ops as string[] }] },
        issuer: 'i',
      });
    for (const ops of [['encrypt'], [], 'sign']) {
      await expect(withOps(ops)).rejects.toMatchObject({
        code: 'ERR_TESSERA_CONFIG',
        message: expect.stringMatching(/key_ops/),
      });
    }
    await expect(withOps(['sign'])).resolves.toBeDefined();
    await expect(withOps(['verify', 'sign'])).resolves.toBeDefined();
  });

  it('refuses a key outside an explicit algorithm allowlist', async () => {
    const ks = await generateKeySet('k1', 'ES256');
    await expect(
      buildSignerVerifier({ keySet: ks, issuer: 'i', algorithms: ['EdDSA'] }),
    ).rejects.toThrow(/not in algorithms/);
  });

  it('checks ttl, tolerance, profile and audience options', async () => {
    const keySet = await generateKeySet('k1');
    await expect(buildSignerVerifier({ keySet, issuer: 'i', ttl: '1 fortnight' })).rejects.toThrow(
      RangeError,
    );
    await expect(buildSignerVerifier({ keySet, issuer: 'i', ttl: -1 })).rejects.toThrow(RangeError);
    await expect(
      buildSignerVerifier({ keySet, issuer: 'i', clockToleranceSeconds: 1000 }),
    ).rejects.toThrow(RangeError);
    await expect(buildSignerVerifier({ keySet, issuer: 'i', profile: 'at+jwt' })).rejects.toThrow(
      /requires an audience/,
    );
    await expect(buildSignerVerifier({ keySet, issuer: '' })).rejects.toThrow(TypeError);
  });

  it('accepts seed durations and reports the lifetime in seconds', async () => {
    const keySet = await generateKeySet('k1');
    expect((await buildSignerVerifier({ keySet, issuer: 'i', ttl: '1h' })).ttlSeconds).toBe(3600);
    expect((await buildSignerVerifier({ keySet, issuer: 'i', ttl: '30m' })).ttlSeconds).toBe(1800);
    expect((await buildSignerVerifier({ keySet, issuer: 'i', ttl: '0s' })).ttlSeconds).toBe(0);
    expect((await buildSignerVerifier({ keySet, issuer: 'i' })).ttlSeconds).toBe(600);
  });
});
