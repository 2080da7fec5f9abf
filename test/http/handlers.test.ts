/**
 * The framework-neutral layer on its own: the bootstrap policy, credential
 * decoding, the native-module adapter and option checks. (The HTTP behaviour
 * of every route is in the shared table, `cases.ts`.)
 */
import { describe, expect, it } from 'vitest';
import { createAccessTokens } from '../../src/access-tokens/index.js';
import { DynamoDBPat } from '../../src/compat/access-tokens/index.js';
import { createFakeClock } from '../../src/core/clock.js';
import { createKeyring, generateServerSecret } from '../../src/core/keyring.js';
import { createAdminHandlers } from '../../src/http/admin-handlers.js';
import { createAuthHandlers } from '../../src/http/auth-handlers.js';
import {
  defaultTokenIdOf,
  formDecode,
  parseAuthorization,
  restorePlus,
} from '../../src/http/credentials.js';
import { fromAccessTokens } from '../../src/http/native-adapter.js';
import type { AccessTokenMethods, HttpRequest } from '../../src/http/types.js';
import { prettify } from '../../src/http/validate.js';
import { buildSignerVerifier, generateKeySet } from '../../src/jwt/index.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';

const keySet = await generateKeySet('k1');

function request(partial: Partial<HttpRequest>): HttpRequest {
  return {
    method: 'POST',
    path: '/token',
    headers: {},
    query: {},
    params: {},
    body: undefined,
    ip: '203.0.113.9',
    origin: 'http://localhost',
    ...partial,
  };
}

/** Count calls to each method of `target`. */
function counting<T extends object>(target: T): { pat: T; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const pat = new Proxy(target, {
    get(t, prop, receiver) {
      const v = Reflect.get(t, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls[String(prop)] = (calls[String(prop)] ?? 0) + 1;
        return v.apply(t, args);
      };
    },
  });
  return { pat, calls };
}

describe('the bootstrap policy of the token endpoint', () => {
  it('bootstraps the first admin from an unknown token matching the bootstrap PHC', async () => {
    const store = createMemoryStore();
    const keyring = createKeyring({ keys: [{ id: 'k', secret: generateServerSecret() }] });
    const seedPat = new DynamoDBPat({ store, keyring, scryptOptions: { cost: 1024 } });
    const boot = await seedPat.generate();
    const pat = new DynamoDBPat({
      store,
      keyring,
      scryptOptions: { cost: 1024 },
      bootstrapPhc: boot.secretPhc,
    });
    const sv = await buildSignerVerifier({ keySet, issuer: 'i' });
    const auth = createAuthHandlers({ pat, signerVerifier: sv });
    const res = await auth.token(request({ body: { client_secret: boot.token } }));
    expect(res.status).toBe(200);
    const { payload } = await sv.verify((res.body as { access_token: string }).access_token);
    expect(payload).toMatchObject({ sub: boot.tokenId, owner: 'admin', admin: true });
  });

  it('tries bootstrap only for an unknown token id, never for a wrong secret or a bad format', async () => {
    const store = createMemoryStore();
    const facade = new DynamoDBPat({ store, scryptOptions: { cost: 1024 } });
    const { token } = await facade.issue({ owner: 'alice' });
    const { pat, calls } = counting(facade);
    const sv = await buildSignerVerifier({ keySet, issuer: 'i' });
    const auth = createAuthHandlers({ pat: pat as AccessTokenMethods, signerVerifier: sv });
    const wrongSecret = `${token.slice(0, -5)}AAAA=`;
    expect((await auth.token(request({ body: { client_secret: wrongSecret } }))).status).toBe(401);
    expect((await auth.token(request({ body: { client_secret: 'junk' } }))).status).toBe(401);
    expect(calls.bootstrap ?? 0).toBe(0);
    const unknown = (await facade.generate()).token;
    expect((await auth.token(request({ body: { client_secret: unknown } }))).status).toBe(401);
    expect(calls.bootstrap).toBe(1);
  });

  it('never bootstraps with bootstrap: false', async () => {
    const facade = new DynamoDBPat({ store: createMemoryStore(), scryptOptions: { cost: 1024 } });
    const { pat, calls } = counting(facade);
    const auth = createAuthHandlers({
      pat: pat as AccessTokenMethods,
      signerVerifier: await buildSignerVerifier({ keySet, issuer: 'i' }),
      bootstrap: false,
    });
    const unknown = (await facade.generate()).token;
    expect((await auth.token(request({ body: { client_secret: unknown } }))).status).toBe(401);
    expect(calls.bootstrap ?? 0).toBe(0);
  });
});

describe('credentials', () => {
  it('form-url-decodes Basic components, keeping a raw + in secrets', () => {
    expect(formDecode('a%2Bb%3D', true)).toBe('a+b=');
    expect(formDecode('a+b=', true)).toBe('a+b=');
    expect(formDecode('my+app', false)).toBe('my app');
    expect(formDecode('100%', true)).toBe('100%');
    expect(restorePlus('ab cd')).toBe('ab+cd');
  });

  it('parses Authorization headers case-insensitively and strictly', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    expect(parseAuthorization(`basic ${b64('id:se%2Bcret')}`)).toEqual({
      kind: 'basic',
      clientId: 'id',
      secret: 'se+cret',
    });
    expect(parseAuthorization(`Basic ${b64('no-colon')}`)).toEqual({ kind: 'malformed_basic' });
    expect(parseAuthorization('Basic !!!')).toEqual({ kind: 'malformed_basic' });
    expect(parseAuthorization('BEARER abc')).toEqual({ kind: 'bearer', token: 'abc' });
    expect(parseAuthorization('Bearer a b')).toEqual({ kind: 'other' });
    expect(parseAuthorization('Digest x')).toEqual({ kind: 'other' });
    expect(parseAuthorization(undefined)).toEqual({ kind: 'none' });
  });

  it('finds the token id in both PAT formats, for throttling', async () => {
    const seed = await new DynamoDBPat({ store: createMemoryStore() }).generate();
    expect(defaultTokenIdOf(seed.token)).toBe(seed.tokenId);
    const native = createAccessTokens({ store: createMemoryStore() });
    const { token, record } = await native.issue({ owner: 'o' });
    expect(defaultTokenIdOf(token)).toBe(record.tokenId);
    expect(defaultTokenIdOf('pat_short')).toBeNull();
  });
});

describe('the native module through fromAccessTokens', () => {
  it('exchanges native tokens and lists them with epoch-second times', async () => {
    const clock = createFakeClock(Date.UTC(2026, 0, 1));
    const store = createMemoryStore();
    const native = createAccessTokens({ store, clock });
    const pat = fromAccessTokens(native);
    const sv = await buildSignerVerifier({ keySet, issuer: 'i', clock });
    const { token, record } = await native.issue({
      owner: 'alice',
      isAdmin: true,
      roles: ['r'],
      expiresAt: clock.now() + 3_600_000,
    });
    const auth = createAuthHandlers({ pat, signerVerifier: sv, clock });
    const res = await auth.token(request({ headers: { authorization: `Bearer ${token}` } }));
    expect(res.status).toBe(200);
    const jwt = (res.body as { access_token: string }).access_token;

    const admin = createAdminHandlers({ pat, signerVerifier: sv, clock });
    const list = await admin.list(
      request({ method: 'GET', path: '/tokens', headers: { authorization: `Bearer ${jwt}` } }),
    );
    expect(list.status).toBe(200);
    expect((list.body as { records: unknown[] }).records).toEqual([
      expect.objectContaining({
        tokenId: record.tokenId,
        roles: ['r'],
        createdAt: Date.UTC(2026, 0, 1) / 1000,
        expiresAt: Date.UTC(2026, 0, 1) / 1000 + 3600,
      }),
    ]);
    const missing = await admin.update(
      request({
        method: 'PATCH',
        params: { tokenId: 'AAAAAAAAAAAAAAAAAAAAA' },
        headers: { authorization: `Bearer ${jwt}` },
        body: { owner: 'x' },
      }),
    );
    expect(missing).toMatchObject({ status: 404, body: { error: { message: 'Token not found' } } });
  });
});

describe('the lifetime of a minted JWT', () => {
  it('never outlives its PAT: exp capped at the PAT expiry, none minted for an expired PAT', async () => {
    const t0 = Date.UTC(2026, 0, 1);
    const clock = createFakeClock(t0);
    const store = createMemoryStore();
    const native = createAccessTokens({ store, clock });
    const sv = await buildSignerVerifier({ keySet, issuer: 'i', clock, store });
    const auth = createAuthHandlers({ pat: fromAccessTokens(native), signerVerifier: sv, clock });
    // Expires 90.5 s from now: 90 s in the seed's whole seconds (rounded down).
    const { token } = await native.issue({ owner: 'alice', expiresAt: t0 + 90_500 });
    const exchange = () => auth.token(request({ headers: { authorization: `Bearer ${token}` } }));

    const first = await exchange();
    expect(first.status).toBe(200);
    const firstBody = first.body as { access_token: string; expires_in: number };
    expect(firstBody.expires_in).toBe(90);
    const { payload } = await sv.verify(firstBody.access_token);
    expect(payload.exp).toBe(t0 / 1000 + 90);

    clock.advance(89_500);
    const late = await exchange();
    expect(late.status).toBe(200);
    const lateJwt = (late.body as { access_token: string; expires_in: number }).access_token;
    expect((late.body as { expires_in: number }).expires_in).toBe(1);
    expect((await sv.verify(lateJwt)).payload.exp).toBe(t0 / 1000 + 90);

    // Valid for 0.5 s more, but its whole-second expiry has come: no JWT.
    clock.advance(700);
    expect((await native.verify(token)).valid).toBe(true);
    const refused = await exchange();
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({ error: { message: 'Invalid Authorization token' } });
    // And the JWT minted before is over with the PAT.
    await expect(sv.verify(lateJwt)).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });
  });

  it('keeps the full lifetime for a PAT without expiry or expiring later', async () => {
    const clock = createFakeClock(Date.UTC(2026, 0, 1));
    const native = createAccessTokens({ store: createMemoryStore(), clock });
    const sv = await buildSignerVerifier({ keySet, issuer: 'i', clock, ttl: 600 });
    const auth = createAuthHandlers({ pat: fromAccessTokens(native), signerVerifier: sv, clock });
    for (const expiresAt of [null, clock.now() + 3_600_000]) {
      const { token } = await native.issue({ owner: 'bob', expiresAt });
      const res = await auth.token(request({ body: { client_secret: token } }));
      const body = res.body as { access_token: string; expires_in: number };
      expect(body.expires_in).toBe(600);
      const { payload } = await sv.verify(body.access_token);
      expect((payload.exp as number) - (payload.iat as number)).toBe(600);
    }
  });
});

describe('who may introspect', () => {
  async function setup(options: Record<string, unknown>) {
    const clock = createFakeClock(Date.UTC(2026, 0, 1));
    const native = createAccessTokens({ store: createMemoryStore(), clock });
    const sv = await buildSignerVerifier({ keySet, issuer: 'i', clock });
    const auth = createAuthHandlers({
      pat: fromAccessTokens(native),
      signerVerifier: sv,
      clock,
      ...options,
    });
    const subject = await native.issue({ owner: 'alice', roles: ['reader'] });
    const as = async (caller: { roles?: string[]; isAdmin?: boolean }) => {
      const c = await native.issue({ owner: 'caller', ...caller });
      return auth.introspect(
        request({
          path: '/introspect',
          headers: { authorization: `Bearer ${c.token}` },
          body: { token: subject.token },
        }),
      );
    };
    return { as };
  }

  it('admits admins and holders of any role of an introspectRole list, naming them all as the scope', async () => {
    const { as } = await setup({ introspectRole: ['ops', 'audit'] });
    for (const caller of [{ roles: ['ops'] }, { roles: ['x', 'audit'] }, { isAdmin: true }]) {
      const r = await as(caller);
      expect(r.status, JSON.stringify(caller)).toBe(200);
      expect(r.body).toMatchObject({ active: true, owner: 'alice' });
    }
    for (const caller of [{ roles: [] }, { roles: ['introspect'] }, { roles: ['opsx'] }]) {
      const r = await as(caller);
      expect(r.status, JSON.stringify(caller)).toBe(403);
      expect(r.body).toMatchObject({ error: 'insufficient_scope' });
      expect(r.headers?.['www-authenticate']).toMatch(
        /error="insufficient_scope".*scope="ops audit"/,
      );
    }
  });

  it('lets canIntrospect decide instead, admins included', async () => {
    const { as } = await setup({
      canIntrospect: (c: { roles: readonly string[] }) => c.roles.includes('gateway'),
    });
    expect((await as({ roles: ['gateway'] })).status).toBe(200);
    // An admin the predicate refuses is refused; no scope is named when no role was given.
    const admin = await as({ isAdmin: true });
    expect(admin.status).toBe(403);
    expect(admin.headers?.['www-authenticate']).not.toMatch(/scope=/);
    // The predicate sees the caller: id, admin flag and roles.
    const seen: unknown[] = [];
    const spy = await setup({
      canIntrospect: (c: unknown) => {
        seen.push(c);
        return false;
      },
    });
    await spy.as({ roles: ['r1'] });
    expect(seen).toEqual([{ tokenId: expect.any(String), admin: false, roles: ['r1'] }]);
  });

  it('refuses a bad introspectRole or canIntrospect at construction', async () => {
    for (const bad of [
      { introspectRole: '' },
      { introspectRole: ['ok', ''] },
      { canIntrospect: 'yes' },
    ]) {
      await expect(setup(bad), JSON.stringify(bad)).rejects.toThrow(TypeError);
    }
  });
});

describe('options and helpers', () => {
  it('refuses missing collaborators and bad options', async () => {
    const sv = await buildSignerVerifier({ keySet, issuer: 'i' });
    const pat = new DynamoDBPat({ store: createMemoryStore() });
    expect(() => createAuthHandlers({ pat: {} as never, signerVerifier: sv })).toThrow(TypeError);
    expect(() => createAuthHandlers({ pat, signerVerifier: {} as never })).toThrow(TypeError);
    expect(() => createAuthHandlers({ pat, signerVerifier: sv, style: 'x' as never })).toThrow(
      TypeError,
    );
    expect(() =>
      createAuthHandlers({ pat, signerVerifier: sv, publicUrl: 'ftp://x.example' }),
    ).toThrow(TypeError);
    expect(() => createAdminHandlers({ pat: {} as never, signerVerifier: sv })).toThrow(TypeError);
  });

  it('answers 500 without details when the access-token methods fail unexpectedly', async () => {
    const errors: unknown[] = [];
    const broken = {
      verify: async () => {
        throw new Error('database on fire');
      },
    } as unknown as AccessTokenMethods;
    const auth = createAuthHandlers({
      pat: broken,
      signerVerifier: await buildSignerVerifier({ keySet, issuer: 'i' }),
      logger: { warn: () => {}, error: (obj) => errors.push(obj) },
    });
    const res = await auth.token(request({ body: { client_secret: 'pat_x' } }));
    expect(res).toMatchObject({
      status: 500,
      body: { error: { message: 'Internal server error' } },
    });
    expect(JSON.stringify(res.body)).not.toContain('fire');
    expect(errors).toHaveLength(1);
  });

  it('prettifies issues like zod v4 (shorter paths first, bracketed indexes)', () => {
    expect(
      prettify([
        { path: ['roles', 0], message: 'Too small: expected string to have >=1 characters' },
        { path: [], message: 'Unrecognized key: "x"' },
      ]),
    ).toBe(
      '✖ Unrecognized key: "x"\n✖ Too small: expected string to have >=1 characters\n  → at roles[0]',
    );
  });
});
