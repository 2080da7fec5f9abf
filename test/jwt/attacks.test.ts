import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { errors, exportJWK, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createFakeClock } from '../../src/core/clock.js';
import {
  buildSignerVerifier,
  generateKeySet,
  type JwtSignerVerifier,
  type KeySet,
} from '../../src/jwt/index.js';
import { decode, ed25519Signer, forge, hmacSigner } from './helpers.js';

const clock = createFakeClock(Date.UTC(2026, 0, 1));
const nowSeconds = () => Math.floor(clock.now() / 1000);
const claims = { sub: '4Hq0rT2mZ8xYb1cVd3eWf', owner: 'mallory', admin: true, roles: [] };

let keySet: KeySet;
let sv: JwtSignerVerifier;
let rsaKeySet: KeySet;
let rsa: JwtSignerVerifier;

function payload(extra: Record<string, unknown> = {}) {
  const iat = nowSeconds();
  return { ...claims, iss: 'https://auth.example.com', iat, exp: iat + 600, jti: 'j1', ...extra };
}

beforeAll(async () => {
  keySet = await generateKeySet('k1');
  sv = await buildSignerVerifier({ keySet, issuer: 'https://auth.example.com', clock });
  rsaKeySet = await generateKeySet('r1', 'RS256');
  rsa = await buildSignerVerifier({
    keySet: rsaKeySet,
    issuer: 'https://auth.example.com',
    clock,
  });
});

describe('the verifier rejects', () => {
  it('a control: a token forged with the real key and a correct header verifies', async () => {
    const jws = forge(
      { alg: 'EdDSA', kid: 'k1', typ: 'JWT' },
      payload(),
      ed25519Signer(keySet.private_keys[0]!),
    );
    expect((await sv.verify(jws)).payload.owner).toBe('mallory');
  });

  it('alg none, with or without a signature', async () => {
    const unsigned = forge({ alg: 'none', kid: 'k1', typ: 'JWT' }, payload(), () =>
      Buffer.alloc(0),
    );
    await expect(sv.verify(unsigned)).rejects.toMatchObject({ code: 'ERR_JOSE_ALG_NOT_ALLOWED' });
    const noneSigned = forge(
      { alg: 'none', kid: 'k1', typ: 'JWT' },
      payload(),
      ed25519Signer(keySet.private_keys[0]!),
    );
    await expect(sv.verify(noneSigned)).rejects.toMatchObject({
      code: 'ERR_JOSE_ALG_NOT_ALLOWED',
    });
  });

  it('HS256 signed with the RSA public key (HS/RS confusion), in every spelling of the key', async () => {
    const pub = createPublicKey({ key: rsaKeySet.public_keys[0] as never, format: 'jwk' });
    const spellings = [
      pub.export({ format: 'pem', type: 'spki' }) as string,
      pub.export({ format: 'pem', type: 'pkcs1' }) as string,
      JSON.stringify(rsaKeySet.public_keys[0]),
      pub.export({ format: 'der', type: 'spki' }) as Buffer,
    ];
    for (const secret of spellings) {
      const jws = forge({ alg: 'HS256', kid: 'r1', typ: 'JWT' }, payload(), hmacSigner(secret));
      await expect(rsa.verify(jws)).rejects.toMatchObject({ code: 'ERR_JOSE_ALG_NOT_ALLOWED' });
    }
  });

  it('an algorithm the key was not made for (RS256 token against an EdDSA key id)', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jws = forge({ alg: 'RS256', kid: 'k1', typ: 'JWT' }, payload(), (input) =>
      sign('sha256', input, privateKey),
    );
    const both = await buildSignerVerifier({
      keySet,
      issuer: 'https://auth.example.com',
      algorithms: ['EdDSA', 'RS256'],
      clock,
    });
    await expect(both.verify(jws)).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    await expect(sv.verify(jws)).rejects.toMatchObject({ code: 'ERR_JOSE_ALG_NOT_ALLOWED' });
  });

  it('an unknown kid, and a missing kid', async () => {
    const real = await sv.sign(claims);
    const { header, payload: p } = decode(real);
    const signer = ed25519Signer(keySet.private_keys[0]!);
    await expect(sv.verify(forge({ ...header, kid: 'k2' }, p, signer))).rejects.toMatchObject({
      code: 'ERR_JWKS_NO_MATCHING_KEY',
    });
    const { kid: _kid, ...noKid } = header;
    await expect(sv.verify(forge(noKid, p, signer))).rejects.toMatchObject({
      code: 'ERR_JWS_INVALID',
    });
  });

  const injectedKids: readonly (readonly [string, string])[] = [
    ['__proto__', '__proto__'],
    ['constructor', 'constructor'],
    ['toString', 'toString'],
    ['a path', '../../etc/passwd'],
    // Long, but within MAX_JWS_LENGTH (longer tokens are refused whole: ERR_JWS_INVALID below).
    ['a very long kid', 'k'.repeat(10_000)],
    ['a 129-character kid', 'k'.repeat(129)],
    ['a kid with NUL', 'k1\u0000'],
    ['a kid with NUL first', '\u0000k1'],
    ['the real kid with a space', 'k1 '],
    ['a kid in another case', 'K1'],
  ];
  for (const [label, kid] of injectedKids) {
    it(`an injected kid: ${label} (the unknown-kid error, before any key is used)`, async () => {
      const { header, payload: p } = decode(await sv.sign(claims));
      const jws = forge({ ...header, kid }, p, ed25519Signer(keySet.private_keys[0]!));
      const err = await sv.verify(jws).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(errors.JWKSNoMatchingKey);
      expect(err).toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    });
  }

  it('a token signed by an attacker key that carries its own jwk, jku, x5u or x5c header', async () => {
    const attacker = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const attackerPrivate = { ...(await exportJWK(attacker.privateKey)) };
    const attackerPublic = await exportJWK(attacker.publicKey);
    const signer = ed25519Signer(attackerPrivate);
    const injected = [
      { jwk: attackerPublic },
      { jku: 'https://evil.example/jwks.json' },
      { x5u: 'https://evil.example/cert.pem' },
      { x5c: ['MIIB'] },
    ];
    for (const extra of injected) {
      const jws = forge({ alg: 'EdDSA', kid: 'k1', typ: 'JWT', ...extra }, payload(), signer);
      await expect(sv.verify(jws)).rejects.toMatchObject({ code: 'ERR_JWS_INVALID' });
    }
    // Without the injected header, the attacker's signature simply does not verify.
    const plain = forge({ alg: 'EdDSA', kid: 'k1', typ: 'JWT' }, payload(), signer);
    await expect(sv.verify(plain)).rejects.toMatchObject({
      code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    });
  });

  it('a tampered payload, and a tampered signature', async () => {
    const jws = await sv.sign({ ...claims, admin: false });
    const [h, , s] = jws.split('.') as [string, string, string];
    const p = Buffer.from(JSON.stringify(payload({ admin: true }))).toString('base64url');
    await expect(sv.verify(`${h}.${p}.${s}`)).rejects.toMatchObject({
      code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    });
    const sig = Buffer.from(s, 'base64url');
    sig[0] = (sig[0] as number) ^ 1;
    const [h2, p2] = jws.split('.');
    await expect(sv.verify(`${h2}.${p2}.${sig.toString('base64url')}`)).rejects.toMatchObject({
      code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    });
    await expect(sv.verify(`${h2}.${p2}.`)).rejects.toMatchObject({
      code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    });
  });

  it('an expired token, at exp exactly (no tolerance by default)', async () => {
    const local = createFakeClock(clock.now());
    const short = await buildSignerVerifier({ keySet, issuer: 'i', ttl: 60, clock: local });
    const jws = await short.sign(claims);
    local.advance(59_999);
    expect((await short.verify(jws)).payload.sub).toBe(claims.sub);
    local.advance(1);
    await expect(short.verify(jws)).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });
  });

  it('an expired token beyond the configured clock tolerance only', async () => {
    const local = createFakeClock(clock.now());
    const tolerant = await buildSignerVerifier({
      keySet,
      issuer: 'i',
      ttl: 60,
      clockToleranceSeconds: 30,
      clock: local,
    });
    const jws = await tolerant.sign(claims);
    local.advance(89_000);
    expect((await tolerant.verify(jws)).payload.sub).toBe(claims.sub);
    local.advance(1000);
    await expect(tolerant.verify(jws)).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });
  });

  it('a token that is not yet valid (nbf in the future)', async () => {
    const jws = forge(
      { alg: 'EdDSA', kid: 'k1', typ: 'JWT' },
      payload({ nbf: nowSeconds() + 120 }),
      ed25519Signer(keySet.private_keys[0]!),
    );
    await expect(sv.verify(jws)).rejects.toMatchObject({
      code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
      claim: 'nbf',
    });
  });

  it('a wrong issuer and a wrong or missing audience', async () => {
    const other = await buildSignerVerifier({ keySet, issuer: 'https://other.example', clock });
    await expect(sv.verify(await other.sign(claims))).rejects.toMatchObject({
      code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
      claim: 'iss',
    });
    const forA = await buildSignerVerifier({ keySet, issuer: 'i', audience: 'api-a', clock });
    const forB = await buildSignerVerifier({ keySet, issuer: 'i', audience: 'api-b', clock });
    const noAud = await buildSignerVerifier({ keySet, issuer: 'i', clock });
    await expect(forB.verify(await forA.sign(claims))).rejects.toMatchObject({
      claim: 'aud',
    });
    await expect(forA.verify(await noAud.sign(claims))).rejects.toMatchObject({
      claim: 'aud',
    });
  });

  it('a wrong typ: an at+jwt token where a JWT is expected, and the reverse', async () => {
    const at = await buildSignerVerifier({
      keySet,
      issuer: 'i',
      audience: 'api',
      profile: 'at+jwt',
      clock,
    });
    const plain = await buildSignerVerifier({ keySet, issuer: 'i', audience: 'api', clock });
    await expect(plain.verify(await at.sign({ ...claims, client_id: 'c' }))).rejects.toMatchObject({
      code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
      claim: 'typ',
    });
    await expect(at.verify(await plain.sign({ ...claims, client_id: 'c' }))).rejects.toMatchObject({
      code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
      claim: 'typ',
    });
    const noTyp = forge(
      { alg: 'EdDSA', kid: 'k1' },
      payload({ iss: 'i', aud: 'api' }),
      ed25519Signer(keySet.private_keys[0]!),
    );
    await expect(plain.verify(noTyp)).rejects.toMatchObject({ claim: 'typ' });
  });

  it('a token without exp, iat or jti', async () => {
    const signer = ed25519Signer(keySet.private_keys[0]!);
    for (const missing of ['exp', 'iat', 'jti']) {
      const p: Record<string, unknown> = payload();
      delete p[missing];
      const jws = forge({ alg: 'EdDSA', kid: 'k1', typ: 'JWT' }, p, signer);
      await expect(sv.verify(jws)).rejects.toMatchObject({
        code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
      });
    }
  });

  it('a token from another key set that reuses the kid', async () => {
    const impostor = await buildSignerVerifier({
      keySet: await generateKeySet('k1'),
      issuer: 'https://auth.example.com',
      clock,
    });
    await expect(sv.verify(await impostor.sign(claims))).rejects.toMatchObject({
      code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    });
  });

  it('critical header extensions, unencoded payloads, junk and oversized input', async () => {
    const signer = ed25519Signer(keySet.private_keys[0]!);
    const crit = forge(
      { alg: 'EdDSA', kid: 'k1', typ: 'JWT', crit: ['exp'], exp: 1 },
      payload(),
      signer,
    );
    // An extension the verifier does not implement must not be ignored (RFC 7515 §4.1.11).
    await expect(sv.verify(crit)).rejects.toBeInstanceOf(errors.JOSENotSupported);
    await expect(sv.verify(crit)).rejects.toMatchObject({
      code: 'ERR_JOSE_NOT_SUPPORTED',
      message: 'Extension Header Parameter "exp" is not recognized',
    });
    const b64 = forge(
      { alg: 'EdDSA', kid: 'k1', typ: 'JWT', b64: false, crit: ['b64'] },
      payload(),
      signer,
    );
    // RFC 7797 unencoded payloads are never valid JWTs.
    await expect(sv.verify(b64)).rejects.toBeInstanceOf(errors.JWTInvalid);
    await expect(sv.verify(b64)).rejects.toMatchObject({
      code: 'ERR_JWT_INVALID',
      message: 'JWTs MUST NOT use unencoded payload',
    });
    await expect(sv.verify('')).rejects.toMatchObject({ code: 'ERR_JWS_INVALID' });
    await expect(sv.verify('a.b')).rejects.toMatchObject({ code: 'ERR_JWS_INVALID' });
    await expect(sv.verify(`${'a'.repeat(20_000)}.b.c`)).rejects.toMatchObject({
      code: 'ERR_JWS_INVALID',
    });
    await expect(sv.verify(42 as never)).rejects.toMatchObject({ code: 'ERR_JWS_INVALID' });
  });
});
