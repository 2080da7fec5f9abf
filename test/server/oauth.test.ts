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
    const { payload } = await jwtVerify(grant.access_token, createLocalJWKSet(jwks.body), {
      issuer: 'tessera',
    });
    expect(payload).toMatchObject({ sub: pat.record.tokenId, owner: 'svc', admin: false });
    const meta = await call(svc, 'GET', '/.well-known/oauth-authorization-server');
    expect(meta.body).toMatchObject({
      issuer: 'tessera',
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
    const a = await h.start({ dir, env, args: ['--store', `sqlite:${dir}/s.db`] });
    const b = await h.start({ dir, env, args: ['--store', `sqlite:${dir}/s.db`] });
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
