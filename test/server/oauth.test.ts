import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { call, createHarness, type Json } from './helpers.js';

const h = createHarness();
afterEach(() => h.stopAll());
afterAll(() => h.cleanup());

async function issue(svc: Json, admin: string, body: object) {
  return (await call(svc, 'POST', '/v1/access-tokens', { body, credential: admin })).body;
}

describe('OAuth endpoints and the seed routes', () => {
  it('exchanges a PAT for a JWT that verifies against the JWKS and works as a service credential', async () => {
    const { svc, admin } = await h.start();
    const pat = await issue(svc, admin, { owner: 'svc', roles: ['tessera:action-tokens'] });
    const form = await fetch(`${svc.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_secret: pat.token }),
    });
    expect(form.status).toBe(200);
    expect(form.headers.get('cache-control')).toBe('no-store');
    const grant = (await form.json()) as Json;
    expect(grant).toMatchObject({ token_type: 'Bearer', expires_in: 600 });

    const jwks = await call(svc, 'GET', '/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    expect(JSON.stringify(jwks.body)).not.toMatch(/"d":/);
    // Without --public-url, the issuer is the address the service listens on.
    const { payload } = await jwtVerify(grant.access_token, createLocalJWKSet(jwks.body), {
      issuer: svc.url,
    });
    expect(payload).toMatchObject({ sub: pat.record.tokenId, owner: 'svc', admin: false });
    const meta = await call(svc, 'GET', '/.well-known/oauth-authorization-server');
    expect(meta.body).toMatchObject({
      issuer: svc.url,
      token_endpoint: `${svc.url}/auth/token`,
      jwks_uri: `${svc.url}/auth/.well-known/jwks.json`,
    });

    // The JWT carries the PAT's roles.
    const created = await call(svc, 'POST', '/v1/action-tokens', {
      body: { owner: 'u', action: 'a' },
      credential: grant.access_token,
    });
    expect(created.status).toBe(201);
    const denied = await call(svc, 'POST', '/v1/access-tokens', {
      body: { owner: 'x' },
      credential: grant.access_token,
    });
    expect(denied.status).toBe(403);

    // Revocation (RFC 7009) of the JWT by an admin PAT; the JWT stops working.
    const root = await issue(svc, admin, { owner: 'root', isAdmin: true });
    const introspected = await call(svc, 'POST', '/auth/introspect', {
      body: { token: grant.access_token },
      credential: root.token,
    });
    expect(introspected.body).toMatchObject({ active: true });
    const revoked = await call(svc, 'POST', '/auth/revoke', {
      body: { token: grant.access_token },
      credential: root.token,
    });
    expect(revoked.status).toBe(200);
    const after = await call(svc, 'POST', '/v1/action-tokens/drain', {
      body: { owner: 'u', action: 'a' },
      credential: grant.access_token,
    });
    expect(after.status).toBe(401);
  });

  it('ends the JWTs minted from a PAT at once when /v1 revokes, deletes, rotates or demotes it', async () => {
    const { svc, admin, clock } = await h.start();
    const mint = async (token: string) => {
      const r = await call(svc, 'POST', '/auth/token', { credential: token });
      expect(r.status).toBe(200);
      return r.body.access_token as string;
    };
    /** A route each JWT below may call while its claims hold. */
    const works = async (jwt: string, path = '/v1/action-tokens/drain') =>
      (
        await call(svc, 'POST', path, {
          body: path.endsWith('/verify') ? { token: 'x' } : { owner: 'u', action: 'a' },
          credential: jwt,
        })
      ).status;
    const v1 = (method: string, path: string, body?: unknown) =>
      call(svc, method, `/v1/access-tokens${path}`, {
        credential: admin,
        ...(body === undefined ? {} : { body }),
      });
    const actor = { owner: 'svc', roles: ['tessera:action-tokens', 'reader'] };

    const revoked = await issue(svc, admin, actor);
    const jwtRevoked = await mint(revoked.token);
    expect(await works(jwtRevoked)).toBe(200);
    expect((await v1('POST', `/${revoked.record.tokenId}/revoke`, {})).status).toBe(200);
    expect(await works(jwtRevoked)).toBe(401);

    const deleted = await issue(svc, admin, actor);
    const jwtDeleted = await mint(deleted.token);
    expect(await works(jwtDeleted)).toBe(200);
    expect((await v1('DELETE', `/${deleted.record.tokenId}`)).status).toBe(204);
    expect(await works(jwtDeleted)).toBe(401);

    const rotated = await issue(svc, admin, actor);
    const jwtRotated = await mint(rotated.token);
    const rotation = await v1('POST', `/${rotated.record.tokenId}/rotate`, {});
    expect(rotation.status).toBe(200);
    expect(await works(jwtRotated)).toBe(401);
    clock.advance(1000); // the denial covers JWTs issued up to its second
    expect(await works(await mint(rotation.body.token))).toBe(200);

    const admins = await issue(svc, admin, { owner: 'ops', isAdmin: true });
    const jwtAdmin = await mint(admins.token);
    expect(await works(jwtAdmin, '/v1/access-tokens/verify')).toBe(200);
    expect((await v1('PATCH', `/${admins.record.tokenId}`, { isAdmin: false })).status).toBe(200);
    expect(await works(jwtAdmin, '/v1/access-tokens/verify')).toBe(401);

    const demoted = await issue(svc, admin, actor);
    const jwtAdded = await mint(demoted.token);
    // Adding a role takes nothing away: the JWT stays valid.
    const added = await v1('PATCH', `/${demoted.record.tokenId}`, { roles: { add: ['extra'] } });
    expect(added.status).toBe(200);
    expect(await works(jwtAdded)).toBe(200);
    const removed = await v1('PATCH', `/${demoted.record.tokenId}`, {
      roles: { remove: ['tessera:action-tokens'] },
    });
    expect(removed.status).toBe(200);
    expect(await works(jwtAdded)).toBe(401);
    clock.advance(1000);
    // A JWT minted now carries the remaining roles only.
    expect(await works(await mint(demoted.token))).toBe(403);
  });

  it('ends the JWTs minted from a PAT when the seed admin route demotes or revokes it, by the /v1 rule', async () => {
    const { svc, admin, clock } = await h.start();
    const mint = async (token: string) => {
      const r = await call(svc, 'POST', '/auth/token', { credential: token });
      expect(r.status).toBe(200);
      return r.body.access_token as string;
    };
    const works = async (jwt: string) =>
      (
        await call(svc, 'POST', '/v1/action-tokens/drain', {
          body: { owner: 'u', action: 'a' },
          credential: jwt,
        })
      ).status;
    const root = await issue(svc, admin, { owner: 'root', isAdmin: true });
    const rootJwt = await mint(root.token);
    const seed = (method: string, tokenId: string, path = '', body: unknown = {}) =>
      call(svc, method, `/admin/tokens/${tokenId}${path}`, { body, credential: rootJwt });
    const actor = { owner: 'svc', roles: ['tessera:action-tokens', 'reader'] };
    const nowSeconds = () => Math.floor(clock.now() / 1000);

    // Updates that only add keep the JWT.
    const kept = await issue(svc, admin, actor);
    const jwtKept = await mint(kept.token);
    for (const body of [
      { roles: { add: ['extra'] } },
      { expiresAt: null },
      { expiresAt: nowSeconds() + 7200 },
    ]) {
      expect((await seed('PATCH', kept.record.tokenId, '', body)).status).toBe(204);
    }
    expect(await works(jwtKept)).toBe(200);

    for (const body of [
      { roles: { remove: ['tessera:action-tokens'] } },
      { roles: ['reader'] },
      { owner: 'other' },
      { expiresAt: nowSeconds() + 60 },
    ]) {
      const demoted = await issue(svc, admin, actor);
      const jwt = await mint(demoted.token);
      expect(await works(jwt)).toBe(200);
      expect((await seed('PATCH', demoted.record.tokenId, '', body)).status).toBe(204);
      expect(await works(jwt), JSON.stringify(body)).toBe(401);
    }

    const admins = await issue(svc, admin, { owner: 'ops', isAdmin: true });
    const jwtAdmin = await mint(admins.token);
    expect(await works(jwtAdmin)).toBe(200);
    expect((await seed('PATCH', admins.record.tokenId, '', { isAdmin: false })).status).toBe(204);
    expect(await works(jwtAdmin)).toBe(401);

    const revoked = await issue(svc, admin, actor);
    const jwtRevoked = await mint(revoked.token);
    expect((await seed('PUT', revoked.record.tokenId, '/revoke')).status).toBe(204);
    expect(await works(jwtRevoked)).toBe(401);
  });

  it('answers introspection only to admins, tessera:admin and the tessera:introspect role', async () => {
    const { svc, admin } = await h.start();
    const subject = await issue(svc, admin, { owner: 'alice', roles: ['reader'] });
    const introspect = (credential: string) =>
      call(svc, 'POST', '/auth/introspect', { body: { token: subject.token }, credential });
    for (const roles of [[], ['introspect'], ['reader'], ['tessera:verify']]) {
      const caller = await issue(svc, admin, { owner: 'app', roles });
      const r = await introspect(caller.token);
      expect(r.status, roles.join()).toBe(403);
      expect(r.body).toMatchObject({ error: 'insufficient_scope' });
      expect(r.text).not.toContain('alice');
      expect(r.headers.get('www-authenticate')).toMatch(/scope="tessera:introspect"/);
    }
    const allowed = await issue(svc, admin, { owner: 'gateway', roles: ['tessera:introspect'] });
    const ok = await introspect(allowed.token);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ active: true, owner: 'alice', roles: ['reader'] });
    // Also through a JWT minted for that token, and for an admin token.
    const jwt = (await call(svc, 'POST', '/auth/token', { credential: allowed.token })).body;
    expect((await introspect(jwt.access_token)).body).toMatchObject({ active: true });
    const root = await issue(svc, admin, { owner: 'root', isAdmin: true });
    expect((await introspect(root.token)).body).toMatchObject({ active: true });
    // tessera:admin holds every service role, introspection too (the rule of every route).
    const serviceAdmin = await issue(svc, admin, { owner: 'ops', roles: ['tessera:admin'] });
    expect((await introspect(serviceAdmin.token)).body).toMatchObject({ active: true });
  });

  it('derives the issuer and the metadata endpoints from --public-url (RFC 8414, RFC 9068)', async () => {
    for (const [given, base] of [
      ['https://auth.example.com', 'https://auth.example.com'],
      ['https://example.com/tessera/', 'https://example.com/tessera'],
    ] as const) {
      const { svc, admin } = await h.start({ args: ['--public-url', given] });
      for (const path of [
        '/.well-known/oauth-authorization-server',
        '/auth/.well-known/oauth-authorization-server',
      ]) {
        const meta = await call(svc, 'GET', path);
        expect(meta.status).toBe(200);
        expect(meta.body).toMatchObject({
          issuer: base,
          token_endpoint: `${base}/auth/token`,
          jwks_uri: `${base}/auth/.well-known/jwks.json`,
          introspection_endpoint: `${base}/auth/introspect`,
          revocation_endpoint: `${base}/auth/revoke`,
          grant_types_supported: ['client_credentials'],
        });
      }
      // Whatever Host the request names, the document names the public URL.
      const viaOtherHost = await call(svc, 'GET', '/.well-known/oauth-authorization-server', {
        headers: { 'x-forwarded-host': 'evil.example', host: 'evil.example' },
      });
      expect(viaOtherHost.text).not.toContain('evil.example');
      const pat = await issue(svc, admin, { owner: 'svc', roles: ['tessera:action-tokens'] });
      const jwt = (await call(svc, 'POST', '/auth/token', { credential: pat.token })).body
        .access_token;
      const jwks = (await call(svc, 'GET', '/.well-known/jwks.json')).body;
      const { payload } = await jwtVerify(jwt, createLocalJWKSet(jwks), { issuer: base });
      expect(payload.iss).toBe(base);
      // The JWT works as a service credential: the service checks the same issuer.
      const drained = await call(svc, 'POST', '/v1/action-tokens/drain', {
        body: { owner: 'u', action: 'a' },
        credential: jwt,
      });
      expect(drained.status).toBe(200);
    }
  });

  it('refuses a wrong PAT with the seed error body', async () => {
    const { svc } = await h.start();
    const res = await call(svc, 'POST', '/auth/token', {
      body: { client_secret: 'pat_nothing' },
    });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: { message: 'Invalid Authorization token' } });
  });

  it('serves the seed admin routes with an admin JWT, never answering a secret hash', async () => {
    const { svc, admin } = await h.start();
    const root = await issue(svc, admin, { owner: 'root', isAdmin: true });
    await issue(svc, admin, { owner: 'alice', roles: ['reader'] });
    const grant = (await call(svc, 'POST', '/auth/token', { credential: root.token })).body;
    const jwt = grant.access_token as string;
    const list = await call(svc, 'GET', '/admin/tokens?includeSecretPhc=true', { credential: jwt });
    expect(list.status).toBe(200);
    expect(list.body.records.map((r: Json) => r.owner).sort()).toEqual(['alice', 'root']);
    expect(list.text).not.toContain('secretPhc');
    expect(list.text).not.toMatch(/\$(sha256|hmac-sha256|scrypt)\$/);
    const created = await call(svc, 'POST', '/admin/tokens', {
      body: { owner: 'bob' },
      credential: jwt,
    });
    expect(created.status).toBe(201);
    const batch = await call(svc, 'POST', '/admin/tokens/batch', {
      body: { tokenIds: [created.body.record.tokenId, 'missing'], includeSecretPhc: true },
      credential: jwt,
    });
    expect(batch.body.found).toHaveLength(1);
    expect(batch.text).not.toContain('secretPhc');
    const revoke = await call(svc, 'PUT', `/admin/tokens/${created.body.record.tokenId}/revoke`, {
      body: {},
      credential: jwt,
    });
    expect(revoke.status).toBe(204);
    const notAdmin = await call(svc, 'GET', '/admin/tokens', { credential: admin });
    expect(notAdmin.status).toBe(401);
  });

  it('shares its JWT keys across instances on one store', async () => {
    const dir = h.dataDir();
    const env = { TESSERA_SECRET: 'k1:shared-secret-0123456789abcdefghijklmnopq' };
    // Behind one load balancer: one public URL, so one issuer.
    const args = ['--store', `sqlite:${dir}/s.db`, '--public-url', 'https://auth.example.com'];
    const a = await h.start({ dir, env, args });
    const b = await h.start({ dir, env, args });
    const ka = (await call(a.svc, 'GET', '/.well-known/jwks.json')).body;
    const kb = (await call(b.svc, 'GET', '/.well-known/jwks.json')).body;
    expect(ka).toEqual(kb);
    const pat = await issue(a.svc, a.admin, { owner: 'svc', roles: ['tessera:action-tokens'] });
    const jwt = (await call(a.svc, 'POST', '/auth/token', { credential: pat.token })).body
      .access_token;
    const onB = await call(b.svc, 'POST', '/v1/action-tokens/drain', {
      body: { owner: 'u', action: 'a' },
      credential: jwt,
    });
    expect(onB.status).toBe(200);
  });
});
