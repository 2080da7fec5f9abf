import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createFakeClock } from '../../src/core/clock.js';
import { buildSignerVerifier, generateKeySet } from '../../src/jwt/index.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { decode } from './helpers.js';

const claims = { sub: '4Hq0rT2mZ8xYb1cVd3eWf', owner: 'alice', admin: false, roles: ['reader'] };

describe('sign', () => {
  it('mints the seed claim set with iss, iat, exp and a jti, typ JWT, no aud or nbf', async () => {
    const clock = createFakeClock(Date.UTC(2026, 0, 1, 12));
    const sv = await buildSignerVerifier({
      keySet: await generateKeySet('k1'),
      issuer: 'my-app',
      ttl: '1h',
      clock,
    });
    const jws = await sv.sign(claims);
    const { header, payload } = decode(jws);
    expect(header).toEqual({ alg: 'EdDSA', kid: 'k1', typ: 'JWT' });
    const iat = Date.UTC(2026, 0, 1, 12) / 1000;
    expect(payload).toEqual({ ...claims, iss: 'my-app', iat, exp: iat + 3600, jti: payload.jti });
    expect(payload.jti).toMatch(/^[0-9A-Za-z]{22}$/);
    expect(decode(await sv.sign(claims)).payload.jti).not.toBe(payload.jti);
  });

  it('lets the signer, not the caller, set iss, iat, exp and jti', async () => {
    const clock = createFakeClock();
    const sv = await buildSignerVerifier({
      keySet: await generateKeySet('k1'),
      issuer: 'i',
      clock,
    });
    const { payload } = decode(await sv.sign({ ...claims, iss: 'evil', exp: 9e9, jti: 'x' }));
    expect(payload.iss).toBe('i');
    expect(payload.exp).toBe(clock.now() / 1000 + 600);
    expect(payload.jti).not.toBe('x');
  });

  it('caps exp at options.expiresAt and refuses a token that would be expired at once', async () => {
    const clock = createFakeClock(Date.UTC(2026, 0, 1, 12));
    const sv = await buildSignerVerifier({
      keySet: await generateKeySet('k1'),
      issuer: 'i',
      clock,
    });
    const iat = clock.now() / 1000;
    expect(decode(await sv.sign(claims, { expiresAt: iat + 90 })).payload.exp).toBe(iat + 90);
    expect(decode(await sv.sign(claims, { expiresAt: iat + 90.9 })).payload.exp).toBe(iat + 90);
    // A later expiry does not lengthen the token.
    expect(decode(await sv.sign(claims, { expiresAt: iat + 9999 })).payload.exp).toBe(iat + 600);
    const capped = await sv.sign(claims, { expiresAt: iat + 1 });
    expect((await sv.verify(capped)).payload.exp).toBe(iat + 1);
    clock.advance(1000);
    await expect(sv.verify(capped)).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });
    const now = clock.now() / 1000;
    for (const expiresAt of [now, now - 60, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(sv.sign(claims, { expiresAt })).rejects.toMatchObject({
        name: 'InvalidInputError',
        code: 'ERR_TESSERA_INVALID_INPUT',
        field: 'expiresAt',
      });
    }
  });

  it('writes nbf and aud when configured', async () => {
    const sv = await buildSignerVerifier({
      keySet: await generateKeySet('k1'),
      issuer: 'i',
      audience: ['api-a', 'api-b'],
      notBefore: true,
    });
    const { payload } = decode(await sv.sign(claims));
    expect(payload.nbf).toBe(payload.iat);
    expect(payload.aud).toEqual(['api-a', 'api-b']);
    expect((await sv.verify(await sv.sign(claims))).payload.owner).toBe('alice');
  });

  it('produces standard JWS signatures any verifier accepts (ES256 in r||s form)', async () => {
    for (const alg of ['EdDSA', 'RS256', 'ES256'] as const) {
      const keySet = await generateKeySet('k1', alg);
      const sv = await buildSignerVerifier({ keySet, issuer: 'i' });
      const jws = await sv.sign(claims);
      const [h, p, s] = jws.split('.') as [string, string, string];
      const key = createPublicKey({ key: keySet.public_keys[0] as never, format: 'jwk' });
      const sig = Buffer.from(s, 'base64url');
      if (alg === 'ES256') expect(sig).toHaveLength(64);
      const ok = nodeVerify(
        alg === 'EdDSA' ? null : 'sha256',
        Buffer.from(`${h}.${p}`),
        alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key,
        sig,
      );
      expect(ok).toBe(true);
      expect((await sv.verify(jws)).protectedHeader.alg).toBe(alg);
    }
  });

  it('refuses claims that are not a plain JSON object', async () => {
    const sv = await buildSignerVerifier({ keySet: await generateKeySet('k1'), issuer: 'i' });
    await expect(sv.sign([] as never)).rejects.toMatchObject({ code: 'ERR_TESSERA_INVALID_INPUT' });
    await expect(sv.sign({ n: 1n } as never)).rejects.toMatchObject({
      code: 'ERR_TESSERA_INVALID_INPUT',
    });
  });
});

describe('the RFC 9068 at+jwt profile', () => {
  it('mints typ at+jwt with aud, client_id and scope, and verifies them', async () => {
    const sv = await buildSignerVerifier({
      keySet: await generateKeySet('k1'),
      issuer: 'https://auth.example.com',
      audience: 'https://api.example.com',
      profile: 'at+jwt',
    });
    const jws = await sv.sign({ ...claims, client_id: claims.sub, scope: 'reader' });
    const { header, payload } = decode(jws);
    expect(header.typ).toBe('at+jwt');
    expect(payload).toMatchObject({
      aud: 'https://api.example.com',
      client_id: claims.sub,
      scope: 'reader',
      sub: claims.sub,
    });
    expect((await sv.verify(jws)).payload.client_id).toBe(claims.sub);
  });

  it('requires sub and client_id', async () => {
    const sv = await buildSignerVerifier({
      keySet: await generateKeySet('k1'),
      issuer: 'i',
      audience: 'a',
      profile: 'at+jwt',
    });
    await expect(sv.sign(claims)).rejects.toMatchObject({ field: 'client_id' });
    await expect(sv.sign({ client_id: 'c' })).rejects.toMatchObject({ field: 'sub' });
  });
});

describe('rotation', () => {
  it('publishes an added key at once, signs with it once active, and keeps the old key until its last token expires', async () => {
    const clock = createFakeClock();
    const sv = await buildSignerVerifier({
      keySet: await generateKeySet('old'),
      issuer: 'i',
      ttl: '10m',
      clockToleranceSeconds: 5,
      clock,
    });
    const oldToken = await sv.sign(claims);
    const next = await generateKeySet('new', 'ES256');
    sv.addKey(next.private_keys[0]!);
    expect(sv.jwks.keys.map((k) => k.kid)).toEqual(['old', 'new']);
    expect(sv.activeKid).toBe('old');
    expect(sv.algorithms).toEqual(['EdDSA', 'ES256']);

    sv.activate('new');
    expect(sv.activeKid).toBe('new');
    const newToken = await sv.sign(claims);
    expect(decode(newToken).header.kid).toBe('new');

    clock.advance((600 + 5) * 1000); // the old token is now at exp + tolerance
    expect(sv.jwks.keys.map((k) => k.kid)).toEqual(['old', 'new']);
    await expect(sv.verify(oldToken)).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });
    clock.advance(1000);
    expect(sv.jwks.keys.map((k) => k.kid)).toEqual(['new']);
    await expect(sv.verify(oldToken)).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    expect(() => sv.activate('old')).toThrow(/Unknown kid/);
  });

  it('lets a retired key verify until now + ttl, then drops it', async () => {
    const clock = createFakeClock();
    const a = await generateKeySet('a');
    const b = await generateKeySet('b');
    const sv = await buildSignerVerifier({
      keySet: {
        active_kid: 'b',
        private_keys: [...a.private_keys, ...b.private_keys],
        public_keys: [...a.public_keys, ...b.public_keys],
      },
      issuer: 'i',
      ttl: 60,
      clock,
    });
    sv.activate('a');
    const signedByA = await sv.sign(claims);
    sv.activate('b'); // a is retired now
    clock.advance(30_000);
    expect((await sv.verify(signedByA)).protectedHeader.kid).toBe('a');
    clock.advance(31_000);
    expect(sv.jwks.keys.map((k) => k.kid)).toEqual(['b']);
  });

  it('refuses to retire the active key or an unknown key, and to activate a public-only key', async () => {
    const ks = await generateKeySet('k1');
    const other = await generateKeySet('pub');
    const sv = await buildSignerVerifier({
      keySet: { ...ks, public_keys: [...ks.public_keys, ...other.public_keys] },
      issuer: 'i',
    });
    expect(() => sv.retire('k1')).toThrow(/active key cannot be retired/);
    expect(() => sv.retire('zz')).toThrow(/Unknown kid/);
    expect(() => sv.activate('pub')).toThrow(/no private part/);
    expect(() => sv.addKey(ks.private_keys[0]!)).toThrow(/Duplicate kid/);
    expect(sv.jwks.keys.map((k) => k.kid)).toEqual(['k1', 'pub']);
  });

  it('verifies tokens of a public-only key, e.g. from another instance', async () => {
    const mine = await generateKeySet('mine');
    const theirs = await generateKeySet('theirs');
    const signer = await buildSignerVerifier({ keySet: theirs, issuer: 'i' });
    const sv = await buildSignerVerifier({
      keySet: { ...mine, public_keys: [...mine.public_keys, ...theirs.public_keys] },
      issuer: 'i',
    });
    expect((await sv.verify(await signer.sign(claims))).payload.sub).toBe(claims.sub);
  });

  it('exports its keys in the seed shape, ready to rebuild from', async () => {
    const sv = await buildSignerVerifier({ keySet: await generateKeySet('k1'), issuer: 'i' });
    sv.addKey((await generateKeySet('k2', 'RS256')).private_keys[0]!);
    sv.activate('k2');
    const exported = sv.exportKeySet();
    expect(exported.active_kid).toBe('k2');
    expect(exported.private_keys.map((k) => k.kid)).toEqual(['k1', 'k2']);
    expect(exported.public_keys.every((k) => k.d === undefined)).toBe(true);
    const again = await buildSignerVerifier({ keySet: exported, issuer: 'i' });
    expect((await again.verify(await sv.sign(claims))).protectedHeader.kid).toBe('k2');
  });

  it('keeps retirement times in the exported set: saved and loaded again, a retired key still leaves on time', async () => {
    const clock = createFakeClock(Date.UTC(2026, 0, 1));
    const sv = await buildSignerVerifier({
      keySet: await generateKeySet('old'),
      issuer: 'i',
      ttl: '10m',
      clock,
    });
    const oldToken = await sv.sign(claims);
    sv.addKey((await generateKeySet('new')).private_keys[0]!);
    sv.activate('new'); // old is retired: it leaves at now + 600 s + 1 s
    const leavesAt = Date.UTC(2026, 0, 1) / 1000 + 601;
    const saved = JSON.parse(JSON.stringify(sv.exportKeySet()));
    expect(saved.retiring_keys).toEqual([{ kid: 'old', remove_at: leavesAt }]);
    expect(Object.keys(saved).sort()).toEqual([
      'active_kid',
      'private_keys',
      'public_keys',
      'retiring_keys',
    ]);

    clock.advance(300_000);
    const loaded = await buildSignerVerifier({ keySet: saved, issuer: 'i', ttl: '10m', clock });
    expect(loaded.jwks.keys.map((k) => k.kid)).toEqual(['old', 'new']);
    expect((await loaded.verify(oldToken)).protectedHeader.kid).toBe('old');
    expect(loaded.exportKeySet().retiring_keys).toEqual(saved.retiring_keys);
    clock.advance(300_000); // leavesAt - 1 s
    expect(loaded.jwks.keys.map((k) => k.kid)).toEqual(['old', 'new']);
    clock.advance(1000);
    expect(loaded.jwks.keys.map((k) => k.kid)).toEqual(['new']);
    await expect(loaded.verify(oldToken)).rejects.toMatchObject({
      code: 'ERR_JWKS_NO_MATCHING_KEY',
    });
    expect(loaded.exportKeySet()).not.toHaveProperty('retiring_keys');
    expect(loaded.exportKeySet().private_keys.map((k) => k.kid)).toEqual(['new']);

    // A set loaded after the removal time no longer publishes the key at all.
    const late = await buildSignerVerifier({ keySet: saved, issuer: 'i', clock });
    expect(late.jwks.keys.map((k) => k.kid)).toEqual(['new']);
  });

  it('leaves seed key sets (no retiring_keys) as they were, and checks retiring_keys', async () => {
    const ks = await generateKeySet('k1');
    const sv = await buildSignerVerifier({ keySet: ks, issuer: 'i' });
    expect(sv.exportKeySet()).toEqual({
      active_kid: 'k1',
      private_keys: [expect.objectContaining({ kid: 'k1', d: expect.any(String) })],
      public_keys: [expect.objectContaining({ kid: 'k1' })],
    });
    const bad = [
      { retiring_keys: {} },
      { retiring_keys: [{ kid: 'k1', remove_at: 1 }] },
      { retiring_keys: [{ kid: 'x', remove_at: 1.5 }] },
      { retiring_keys: [{ kid: 'x', remove_at: '1' }] },
      { retiring_keys: [null] },
      {
        retiring_keys: [
          { kid: 'x', remove_at: 1 },
          { kid: 'x', remove_at: 2 },
        ],
      },
    ];
    for (const extra of bad) {
      await expect(
        buildSignerVerifier({ keySet: { ...ks, ...extra } as never, issuer: 'i' }),
      ).rejects.toMatchObject({ code: 'ERR_TESSERA_CONFIG' });
    }
  });

  it('publishes only public members', async () => {
    const sv = await buildSignerVerifier({
      keySet: await generateKeySet('k1', 'RS256'),
      issuer: 'i',
    });
    expect(Object.keys(sv.jwks.keys[0]!).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(Object.isFrozen(sv.jwks)).toBe(true);
  });
});

describe('revocation denylist', () => {
  it('denies a revoked token until it expires, and only that token', async () => {
    const clock = createFakeClock();
    const store = createMemoryStore();
    const sv = await buildSignerVerifier({
      keySet: await generateKeySet('k1'),
      issuer: 'i',
      ttl: 60,
      clock,
      store,
    });
    expect(sv.canRevoke).toBe(true);
    const a = await sv.sign(claims);
    const b = await sv.sign(claims);
    expect(await sv.revoke(a)).toBe(true);
    await expect(sv.verify(a)).rejects.toMatchObject({ code: 'ERR_TESSERA_REVOKED' });
    expect((await sv.verify(b)).payload.sub).toBe(claims.sub);
    expect(await sv.revoke('not.a.jwt')).toBe(false);
    clock.advance(62_000);
    expect(await store.sweep(clock.now())).toBeGreaterThanOrEqual(1);
  });

  it('denies every token of a subject issued up to now, not later ones', async () => {
    const clock = createFakeClock();
    const sv = await buildSignerVerifier({
      keySet: await generateKeySet('k1'),
      issuer: 'i',
      clock,
      store: createMemoryStore(),
    });
    const before = await sv.sign(claims);
    const otherSubject = await sv.sign({ ...claims, sub: 'someone-else' });
    await sv.revokeSubject(claims.sub);
    await expect(sv.verify(before)).rejects.toMatchObject({ code: 'ERR_TESSERA_REVOKED' });
    expect((await sv.verify(otherSubject)).payload.sub).toBe('someone-else');
    clock.advance(1000);
    const after = await sv.sign(claims);
    expect((await sv.verify(after)).payload.sub).toBe(claims.sub);
  });

  it('needs a store to revoke', async () => {
    const sv = await buildSignerVerifier({ keySet: await generateKeySet('k1'), issuer: 'i' });
    expect(sv.canRevoke).toBe(false);
    await expect(sv.revoke(await sv.sign(claims))).rejects.toMatchObject({
      code: 'ERR_TESSERA_CONFIG',
    });
    await expect(sv.revokeSubject('x')).rejects.toMatchObject({ code: 'ERR_TESSERA_CONFIG' });
  });
});
