import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { call, createHarness, type Json } from './helpers.js';

const h = createHarness();
afterEach(() => h.stopAll());
afterAll(() => h.cleanup());

const HASH_MARKERS = ['$sha256$', '$hmac-sha256$', '$scrypt$', 'secretPhc', 'valueHash'];

/** Every response text seen, to scan for hashes. */
function recorder() {
  const texts: string[] = [];
  return {
    texts,
    async call(...args: Parameters<typeof call>) {
      const r = await call(...args);
      texts.push(r.text);
      return r;
    },
  };
}

describe('access tokens over HTTP', () => {
  it('issues, reads, lists, updates, revokes, restores, rotates and deletes, never answering a hash', async () => {
    const { svc, admin } = await h.start();
    const rec = recorder();
    const c = (method: string, path: string, body?: unknown) =>
      rec.call(svc, method, path, { body, credential: admin });

    const issued = await c('POST', '/v1/access-tokens', { owner: 'alice', roles: ['reader'] });
    expect(issued.status).toBe(201);
    expect(issued.headers.get('cache-control')).toBe('no-store');
    expect(issued.body.token).toMatch(/^pat_/);
    const id = issued.body.record.tokenId;
    expect(issued.body.record).toMatchObject({ owner: 'alice', roles: ['reader'], isAdmin: false });

    expect((await c('GET', `/v1/access-tokens/${id}`)).body.record.tokenId).toBe(id);
    const list = await c('GET', '/v1/access-tokens?owner=alice&limit=10');
    expect(list.body.tokens.map((t: Json) => t.tokenId)).toEqual([id]);
    expect((await c('GET', '/v1/access-tokens?hasRole=reader')).body.tokens).toHaveLength(1);

    const updated = await c('PATCH', `/v1/access-tokens/${id}`, { roles: { add: ['writer'] } });
    expect(updated.body.record.roles).toEqual(['reader', 'writer']);
    const revoked = await c('POST', `/v1/access-tokens/${id}/revoke`, {});
    expect(revoked.body.record.revokedAt).toEqual(expect.any(Number));
    const restored = await c('POST', `/v1/access-tokens/${id}/restore`);
    expect(restored.body.record.revokedAt).toBeNull();
    const rotated = await c('POST', `/v1/access-tokens/${id}/rotate`, { overlapSeconds: 60 });
    expect(rotated.body.token).not.toBe(issued.body.token);
    expect(rotated.body.record.previousSecretExpiresAt).toEqual(expect.any(Number));

    const gen = await c('POST', '/v1/access-tokens', { owner: 'bob' });
    const registered = await c('PUT', '/v1/access-tokens/0123456789abcdefghijK', {
      owner: 'carol',
      secretPhc: '$sha256$Tu9Dqk6JG8Mc0Rc+IAdjA7OE1Uh/zaDb10JLmiAE/3g',
    });
    expect([201, 400]).toContain(registered.status);
    expect(gen.status).toBe(201);

    expect((await c('DELETE', `/v1/access-tokens/${id}`)).status).toBe(204);
    const gone = await c('GET', `/v1/access-tokens/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('ERR_TESSERA_NOT_FOUND');
    expect((await c('DELETE', `/v1/access-tokens/${id}`)).status).toBe(404);

    for (const text of rec.texts) for (const m of HASH_MARKERS) expect(text).not.toContain(m);
  });

  it('verifies tokens for other services: generic failures, optional role requirements', async () => {
    const { svc, admin } = await h.start();
    const issue = async (body: object) =>
      (await call(svc, 'POST', '/v1/access-tokens', { body, credential: admin })).body;
    const caller = await issue({ owner: 'billing-service', roles: ['tessera:verify'] });
    const user = await issue({ owner: 'alice', roles: ['reader'] });
    const verify = (body: object) =>
      call(svc, 'POST', '/v1/access-tokens/verify', { body, credential: caller.token });

    const ok = await verify({ token: user.token });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ valid: true, record: { owner: 'alice', roles: ['reader'] } });
    expect((await verify({ token: user.token, requireRoles: ['reader'] })).body.valid).toBe(true);
    for (const body of [
      { token: user.token, requireRoles: ['writer'] },
      { token: `${user.token.slice(0, -1)}x` },
      { token: 'pat_doesnotexist' },
      { token: 'garbage' },
    ]) {
      const r = await verify(body);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ valid: false });
    }
    await call(svc, 'POST', `/v1/access-tokens/${user.record.tokenId}/revoke`, {
      body: {},
      credential: admin,
    });
    expect((await verify({ token: user.token })).body).toEqual({ valid: false });
  });

  it('authenticates access tokens by their tessera:* roles; application roles grant nothing', async () => {
    const { svc, admin } = await h.start();
    const issue = async (body: object) =>
      (await call(svc, 'POST', '/v1/access-tokens', { body, credential: admin })).body;
    const verifier = await issue({ owner: 'svc', roles: ['tessera:verify'] });
    const reader = await issue({ owner: 'alice', roles: ['reader', 'admin'] });
    const manager = await issue({ owner: 'ops', roles: ['tessera:access-tokens'] });
    const root = await issue({ owner: 'root', isAdmin: true });
    const issueWith = (cred: string) =>
      call(svc, 'POST', '/v1/access-tokens', { body: { owner: 'x' }, credential: cred });

    const forbidden = await issueWith(verifier.token);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe('ERR_TESSERA_FORBIDDEN');
    // RFC 6750 §3.1: the challenge says why, and which scope (roles) the route takes.
    expect(forbidden.headers.get('www-authenticate')).toBe(
      'Bearer realm="tessera", error="insufficient_scope", error_description="The credential lacks the role this route needs", scope="tessera:access-tokens"',
    );
    expect((await issueWith(reader.token)).status).toBe(403);
    expect((await issueWith(manager.token)).status).toBe(201);
    expect((await issueWith(root.token)).status).toBe(201);
    const actionTokens = await call(svc, 'POST', '/v1/action-tokens', {
      body: { owner: 'u', action: 'a' },
      credential: manager.token,
    });
    expect(actionTokens.status).toBe(403);
    expect(actionTokens.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="tessera", error="insufficient_scope",.* scope="tessera:action-tokens"$/,
    );
    const rootAction = await call(svc, 'POST', '/v1/action-tokens', {
      body: { owner: 'u', action: 'a' },
      credential: root.token,
    });
    expect(rootAction.status).toBe(201);

    // Revocation takes effect at once on this instance.
    await call(svc, 'POST', `/v1/access-tokens/${manager.record.tokenId}/revoke`, {
      body: {},
      credential: admin,
    });
    expect((await issueWith(manager.token)).status).toBe(401);
  });
});

describe('challenges over HTTP', () => {
  it('creates, reads, verifies once and removes challenges', async () => {
    const { svc, admin } = await h.start();
    const rec = recorder();
    const c = (path: string, body: unknown) =>
      rec.call(svc, 'POST', path, { body, credential: admin });
    const created = await c('/v1/challenges', {
      action: 'register',
      id: 'a@example.com',
      metadata: { plan: 'pro' },
      regenerate: true,
    });
    expect(created.status).toBe(201);
    const sealed = created.body.secret;
    expect(typeof sealed).toBe('string');
    const uid = created.body.challenge.uid;

    const info = await c('/v1/challenges/info', { uid });
    expect(info.body.challenge).toMatchObject({ action: 'register', metadata: { plan: 'pro' } });
    expect((await c('/v1/challenges/info', { uid: 'nope' })).status).toBe(404);

    const wrong = await c('/v1/challenges/verify', { token: `${sealed}x` });
    expect(wrong.body).toEqual({ valid: false });

    const regen = await c('/v1/challenges/regenerate', { uid });
    expect(regen.status).toBe(200);
    expect(regen.body.secret).not.toBe(sealed);
    expect((await c('/v1/challenges/verify', { token: sealed })).body).toEqual({ valid: false });
    const ok = await c('/v1/challenges/verify', { token: regen.body.secret });
    expect(ok.body).toMatchObject({ valid: true, challenge: { isFirstVerification: true } });

    await c('/v1/challenges', { action: 'login', id: 'b@example.com', secret: false });
    const target = { action: 'login', id: 'b@example.com' };
    expect((await c('/v1/challenges/remove', target)).body).toEqual({ removed: true });
    expect((await c('/v1/challenges/remove', target)).body).toEqual({ removed: false });

    const bad = await c('/v1/challenges/verify', { action: 'register' });
    expect(bad.status).toBe(400);
    for (const text of rec.texts) for (const m of HASH_MARKERS) expect(text).not.toContain(m);
  });
});

describe('sessions over HTTP', () => {
  it('creates, validates, lists, detaches and destroys sessions, and bound tokens die with them', async () => {
    const { svc, admin } = await h.start();
    const rec = recorder();
    const c = (method: string, path: string, body?: unknown) =>
      rec.call(svc, method, path, { body, credential: admin });
    const created = await c('POST', '/v1/sessions', {
      owner: 'alice',
      detachable: true,
      data: { ua: 'x' },
    });
    expect(created.status).toBe(201);
    const { token, session } = created.body;
    expect(JSON.stringify(session)).not.toContain(token);

    const valid = await c('POST', '/v1/sessions/validate', { token });
    expect(valid.body).toMatchObject({ valid: true, session: { id: session.id, owner: 'alice' } });
    expect((await c('POST', '/v1/sessions/validate', { token: `${token}x` })).body).toEqual({
      valid: false,
    });
    const listed = await c('GET', '/v1/sessions?owner=alice');
    expect(listed.body.items.map((s: Json) => s.id)).toEqual([session.id]);
    expect(JSON.stringify(listed.body)).not.toContain(token);
    expect((await c('GET', `/v1/sessions/${session.id}`)).body.session.id).toBe(session.id);

    const bound = await c('POST', '/v1/session-tokens', {
      kind: 'bound',
      value: { step: 2 },
      session: { token },
    });
    expect(bound.status).toBe(201);
    const checked = await c('POST', '/v1/session-tokens/check', { token: bound.body.token });
    expect(checked.body).toMatchObject({ valid: true, value: { step: 2 } });
    const byId = await c('GET', `/v1/session-tokens/${bound.body.info.id}`);
    expect(byId.body.token.kind).toBe('bound');
    const inSession = await c(
      'GET',
      `/v1/session-tokens?session=${encodeURIComponent(session.id)}`,
    );
    expect(inSession.body.items).toHaveLength(1);

    const detached = await c('POST', '/v1/sessions/detach', { id: session.id });
    expect(detached.body.session.detached).toBe(true);
    expect((await c('POST', '/v1/sessions/validate', { token })).body).toEqual({ valid: false });
    expect((await c('POST', '/v1/sessions/attach', { id: session.id })).body.session.detached).toBe(
      false,
    );

    expect((await c('POST', '/v1/sessions/destroy', { token })).body).toEqual({ destroyed: true });
    expect((await c('POST', '/v1/session-tokens/check', { token: bound.body.token })).body).toEqual(
      { valid: false },
    );
    expect((await c('GET', `/v1/sessions/${session.id}`)).status).toBe(404);

    const s2 = await c('POST', '/v1/sessions', { owner: 'bob' });
    await c('POST', '/v1/sessions', { owner: 'bob' });
    const all = await c('POST', '/v1/sessions/destroy-all', {
      owner: 'bob',
      except: { token: s2.body.token },
    });
    expect(all.body).toEqual({ destroyed: 1 });
    expect((await c('GET', '/v1/sessions')).status).toBe(400);
    for (const text of rec.texts) for (const m of HASH_MARKERS) expect(text).not.toContain(m);
  });

  it('creates a session with sliding: false and reports sliding on every session answer', async () => {
    const { svc, admin, clock } = await h.start();
    const c = (method: string, path: string, body?: unknown) =>
      call(svc, method, path, { body, credential: admin });
    const fixed = await c('POST', '/v1/sessions', {
      owner: 'alice',
      sliding: false,
      idleTimeoutMs: 3_600_000,
    });
    expect(fixed.status).toBe(201);
    expect(fixed.body.session).toMatchObject({ sliding: false, idleTimeoutMs: 3_600_000 });
    const slides = await c('POST', '/v1/sessions', { owner: 'alice', idleTimeoutMs: 3_600_000 });
    expect(slides.body.session.sliding).toBe(true);

    clock.advance(45 * 60_000);
    const valid = await c('POST', '/v1/sessions/validate', { token: fixed.body.token });
    expect(valid.body.session).toMatchObject({
      sliding: false,
      lastActiveAt: fixed.body.session.createdAt,
      expiresAt: fixed.body.session.expiresAt,
    });
    const other = await c('POST', '/v1/sessions/validate', { token: slides.body.token });
    expect(other.body.session).toMatchObject({ sliding: true, lastActiveAt: clock.now() });
    const listed = await c('GET', '/v1/sessions?owner=alice');
    const byId = new Map((listed.body.items as Json[]).map((s) => [s.id, s.sliding]));
    expect(byId.get(fixed.body.session.id)).toBe(false);
    expect(byId.get(slides.body.session.id)).toBe(true);
    expect((await c('GET', `/v1/sessions/${fixed.body.session.id}`)).body.session.sliding).toBe(
      false,
    );
    clock.advance(15 * 60_000); // one hour from creation: the fixed countdown is over
    expect((await c('POST', '/v1/sessions/validate', { token: fixed.body.token })).body).toEqual({
      valid: false,
    });
    expect((await c('POST', '/v1/sessions', { owner: 'alice', sliding: 'no' })).status).toBe(400);
  });

  it('transfers and acquires transferable tokens', async () => {
    const { svc, admin } = await h.start();
    const c = (method: string, path: string, body?: unknown) =>
      call(svc, method, path, { body, credential: admin });
    const a = (await c('POST', '/v1/sessions', { owner: 'alice' })).body;
    const b = (await c('POST', '/v1/sessions', { owner: 'bob' })).body;
    const t = await c('POST', '/v1/session-tokens', {
      kind: 'transferable',
      value: 'ticket-1',
      session: { token: a.token },
    });
    expect(t.body.info).toMatchObject({ state: 'carried', owner: 'alice' });
    const moved = await c('POST', '/v1/session-tokens/transfer', {
      token: { id: t.body.info.id },
      from: 'alice',
      to: 'bob',
      toSession: { token: b.token },
    });
    expect(moved.body.token).toMatchObject({ owner: 'bob', state: 'carried' });
    const wrongFrom = await c('POST', '/v1/session-tokens/transfer', {
      token: { id: t.body.info.id },
      from: 'alice',
      to: 'carol',
    });
    expect(wrongFrom.status).toBe(403); // as the route's description says
    expect(wrongFrom.body.error.code).toBe('ERR_TESSERA_FORBIDDEN');
    const sellable = await c('POST', '/v1/session-tokens/settings', {
      token: { id: t.body.info.id },
      sellable: true,
      price: 5,
    });
    expect(sellable.body.token).toMatchObject({ sellable: true, price: 5 });
    expect((await c('GET', '/v1/session-tokens?sellable=true')).body.items).toHaveLength(1);
  });

  it('lists the transferable tokens of timed-out sessions as unassigned once the background maintenance ran', async () => {
    const { svc, admin, clock } = await h.start({ args: ['--sweep-interval', '1'] });
    const c = (method: string, path: string, body?: unknown) =>
      call(svc, method, path, { body, credential: admin });
    const s = (await c('POST', '/v1/sessions', { owner: 'alice', idleTimeoutMs: 60_000 })).body;
    const t = await c('POST', '/v1/session-tokens', {
      kind: 'transferable',
      value: 'ticket-1',
      session: { token: s.token },
    });
    expect(t.status).toBe(201);
    const unassigned = async () =>
      ((await c('GET', '/v1/session-tokens?unassigned=true')).body.items as Json[]).map(
        (i) => i.id,
      );
    expect(await unassigned()).toEqual([]);
    clock.advance(120_000); // the session times out; nothing reads it afterwards
    // The maintenance interval is one real second; wait for it, at most five.
    const deadline = Date.now() + 5000;
    let ids = await unassigned();
    while (ids.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      ids = await unassigned();
    }
    expect(ids).toEqual([t.body.info.id]);
  });
});
