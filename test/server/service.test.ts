import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../../src/core/clock.js';
import { createKeyring } from '../../src/core/keyring.js';
import { createAdminVerifier, rotateAdminCredential } from '../../src/server/admin.js';
import { createServiceApp } from '../../src/server/app.js';
import { createServiceLogger } from '../../src/server/logger.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { call, createHarness } from './helpers.js';

const h = createHarness();
afterEach(() => h.stopAll());
afterAll(() => h.cleanup());

describe('tessera serve (embedded SQLite default)', () => {
  it('creates its data directory, an owner-only secret and database, and an admin credential once, never logged', async () => {
    const dir = join(h.dataDir(), 'nested', 'data');
    const { svc, logs } = await h.start({ dir, env: { TESSERA_ADMIN_TOKEN: '' } });
    expect(svc.newAdminCredential).toMatch(/^tsa_[A-Za-z0-9_-]{43}$/);
    expect(logs.text()).not.toContain(svc.newAdminCredential);
    expect(statSync(join(dir, 'server-secret')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'tessera.db')).mode & 0o077).toBe(0);
    expect(statSync(dir).mode & 0o077).toBe(0);
    const credential = svc.newAdminCredential;
    await svc.close();
    h.forget(svc);
    const again = await h.start({ dir, env: { TESSERA_ADMIN_TOKEN: '' } });
    expect(again.svc.newAdminCredential).toBeNull();
    const res = await call(again.svc, 'POST', '/v1/action-tokens/drain', {
      body: { owner: 'u', action: 'a' },
      credential,
    });
    expect(res.status).toBe(200);
  });

  it('answers /healthz and /readyz without credentials', async () => {
    const { svc } = await h.start();
    const health = await call(svc, 'GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
    const ready = await call(svc, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', store: 'sqlite' });
  });

  it('refuses /v1 without a valid credential, with WWW-Authenticate and one generic answer', async () => {
    const { svc, admin } = await h.start();
    for (const cred of [null, 'tsa_wrong', `${admin}x`, 'pat_nonsense', 'a.b.c']) {
      const res = await call(svc, 'POST', '/v1/action-tokens/peek', {
        body: { owner: 'u', action: 'a' },
        credential: cred,
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="tessera"');
      expect(res.body).toEqual({
        error: { code: 'ERR_TESSERA_UNAUTHORIZED', message: 'A valid credential is required.' },
      });
    }
  });

  it('creates, peeks, uses and drains action tokens end to end, with generic failures', async () => {
    const { svc, admin } = await h.start();
    const created = await call(svc, 'POST', '/v1/action-tokens', {
      body: {
        owner: 'u1',
        action: 'verify-email',
        generate: { kind: 'code' },
        data: { email: 'a@example.com' },
      },
      credential: admin,
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const { token, value } = created.body;
    expect(value).toMatch(/^\d{8}$/);
    expect(token).toMatchObject({
      owner: 'u1',
      action: 'verify-email',
      remainingUses: 5,
      data: { email: 'a@example.com' },
    });
    expect(JSON.stringify(token)).not.toContain(value);
    expect(Object.keys(token).sort()).toEqual(
      ['action', 'createdAt', 'data', 'expiresAt', 'lookup', 'owner', 'remainingUses'].sort(),
    );

    const peek = await call(svc, 'POST', '/v1/action-tokens/peek', {
      body: { owner: 'u1', action: 'verify-email' },
      credential: admin,
    });
    expect(peek.body.token.remainingUses).toBe(5);

    const use = (body: object) =>
      call(svc, 'POST', '/v1/action-tokens/use', { body, credential: admin });
    const wrong = await use({ owner: 'u1', action: 'verify-email', value: '00000000' });
    expect(wrong.body).toEqual({ valid: false });
    const missing = await use({ owner: 'nobody', action: 'verify-email', value: '00000000' });
    expect(missing.body).toEqual({ valid: false });
    const right = await use({ owner: 'u1', action: 'verify-email', value });
    expect(right.body.valid).toBe(true);
    expect(right.body.token.remainingUses).toBe(0);
    expect((await use({ owner: 'u1', action: 'verify-email', value })).body).toEqual({
      valid: false,
    });

    const drained = await call(svc, 'POST', '/v1/action-tokens/drain', {
      body: { owner: 'u1', action: 'verify-email' },
      credential: admin,
    });
    expect(drained.body).toEqual({ drained: true }); // a used-up token is deleted too
    const gone = await call(svc, 'POST', '/v1/action-tokens/peek', {
      body: { owner: 'u1', action: 'verify-email' },
      credential: admin,
    });
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('ERR_TESSERA_NOT_FOUND');
  });

  it('answers the precise reason only with --expose-reasons', async () => {
    const { svc, admin } = await h.start({ args: ['--expose-reasons', 'on'] });
    const res = await call(svc, 'POST', '/v1/action-tokens/use', {
      body: { owner: 'nobody', action: 'x', value: '12345678' },
      credential: admin,
    });
    expect(res.body).toEqual({ valid: false, reason: 'not_found' });
  });

  it('answers 409 for a duplicate and 429 with Retry-After for a throttled create', async () => {
    const { svc, admin } = await h.start();
    const first = { owner: 'u', action: 'login', throttle: { windowSeconds: 60 } };
    const post = (body: object) =>
      call(svc, 'POST', '/v1/action-tokens', { body, credential: admin });
    expect((await post(first)).status).toBe(201);
    const dup = await post({ owner: 'u', action: 'login' });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('ERR_TESSERA_ALREADY_EXISTS');
    const throttled = await post({ ...first, overwrite: true });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('60');
    expect(throttled.body.error.code).toBe('ERR_TESSERA_THROTTLED');
  });

  it('rejects malformed requests with 400, 413, 415 or 404 and a stable code', async () => {
    const { svc, admin } = await h.start({ args: ['--body-limit', '2048'] });
    const cases: Array<[string, string, unknown, Record<string, string>, number, string]> = [
      ['POST', '/v1/action-tokens', '{not json', {}, 400, 'ERR_TESSERA_INVALID_INPUT'],
      ['POST', '/v1/action-tokens', [1, 2], {}, 400, 'ERR_TESSERA_INVALID_INPUT'],
      [
        'POST',
        '/v1/action-tokens',
        { owner: 'u', action: 'a', surprise: 1 },
        {},
        400,
        'ERR_TESSERA_INVALID_INPUT',
      ],
      [
        'POST',
        '/v1/action-tokens',
        { owner: 42, action: 'a' },
        {},
        400,
        'ERR_TESSERA_INVALID_INPUT',
      ],
      [
        'POST',
        '/v1/action-tokens',
        { owner: 'u', action: 'a' },
        { 'content-type': 'text/plain' },
        415,
        'ERR_TESSERA_UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'POST',
        '/v1/action-tokens',
        { owner: 'u', action: 'a', data: { big: 'x'.repeat(4096) } },
        {},
        413,
        'ERR_TESSERA_BODY_TOO_LARGE',
      ],
      ['POST', '/v1/nothing-here', {}, {}, 404, 'ERR_TESSERA_NO_ROUTE'],
      ['GET', '/v1/access-tokens/not-an-id', undefined, {}, 400, 'ERR_TESSERA_INVALID_INPUT'],
      ['GET', '/v1/access-tokens?limit=0', undefined, {}, 400, 'ERR_TESSERA_INVALID_INPUT'],
    ];
    for (const [method, path, payload, headers, status, code] of cases) {
      const res = await call(svc, method, path, { body: payload, credential: admin, headers });
      expect(res.status, `${path} ${JSON.stringify(payload)?.slice(0, 40)}`).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(
        Object.keys(res.body.error).every((k) => ['code', 'message', 'field'].includes(k)),
      ).toBe(true);
    }
    const field = await call(svc, 'POST', '/v1/action-tokens', {
      body: { owner: '', action: 'a' },
      credential: admin,
    });
    expect(field.body.error.field).toBe('owner');
    const unknown = await call(svc, 'POST', '/v1/action-tokens', {
      body: { owner: 'u', action: 'a', surprise: 1 },
      credential: admin,
    });
    expect(unknown.body.error).toMatchObject({ field: 'surprise' });
  });

  it('enforces the body limit on chunked bodies too', async () => {
    const { svc, admin } = await h.start({ args: ['--body-limit', '2048'] });
    const big = JSON.stringify({ owner: 'u', action: 'a', data: { big: 'x'.repeat(8192) } });
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const res = await fetch(`${svc.url}/v1/action-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
  });

  it('accepts a rotated admin credential and refuses the old one once the one-second cache has passed', async () => {
    const { svc, clock } = await h.start({ env: { TESSERA_ADMIN_TOKEN: '' } });
    const old = svc.newAdminCredential;
    const fresh = await rotateAdminCredential(svc.store, clock);
    clock.advance(1001);
    const drain = (cred: string | null) =>
      call(svc, 'POST', '/v1/action-tokens/drain', {
        body: { owner: 'u', action: 'a' },
        credential: cred,
      });
    expect((await drain(old)).status).toBe(401);
    expect((await drain(fresh)).status).toBe(200);
  });

  it('uses a fixed admin credential and secret from the environment when given', async () => {
    const dir = h.dataDir();
    const { svc } = await h.start({
      dir,
      admin: 'tsa_fixed-admin-credential',
      env: { TESSERA_SECRET: 'k9:0123456789abcdef0123456789abcdef-env' },
    });
    expect(svc.newAdminCredential).toBeNull();
    expect(() => statSync(join(dir, 'server-secret'))).toThrow();
    const res = await call(svc, 'POST', '/v1/action-tokens/drain', {
      body: { owner: 'u', action: 'a' },
      credential: 'tsa_fixed-admin-credential',
    });
    expect(res.status).toBe(200);
  });
});

describe('graceful shutdown', () => {
  it('stops accepting, finishes in-flight requests, then closes the store', async () => {
    const { svc, admin } = await h.start();
    // Slow every store write down while a request is in flight.
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const originalUpdate = svc.store.update.bind(svc.store);
    let entered: () => void = () => {};
    const inside = new Promise<void>((r) => {
      entered = r;
    });
    (svc.store as { update: typeof svc.store.update }).update = async (...args) => {
      entered();
      await gate;
      return originalUpdate(...args);
    };
    const inflight = call(svc, 'POST', '/v1/action-tokens/use', {
      body: { owner: 'u', action: 'a', value: 'x' },
      credential: admin,
    });
    await inside;
    const closed = svc.close(5000);
    h.forget(svc);
    // The listener is closed: new connections are refused.
    await expect(
      fetch(`${svc.url}/healthz`, { headers: { connection: 'close' } }),
    ).rejects.toThrow();
    release();
    const res = await inflight;
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ valid: false });
    await closed;
    await expect(svc.store.get({ collection: 'x', key: 'y' })).rejects.toThrow();
  });
});

describe('readiness', () => {
  it('answers /readyz 503 while shutting down and when the store does not answer', async () => {
    const store = createMemoryStore();
    let shuttingDown = false;
    const clock = createFakeClock(Date.now());
    const { app, close } = createServiceApp({
      store,
      keyring: createKeyring({
        keys: [{ id: 'k1', secret: 'readyz-secret-0123456789abcdefghijklmnop' }],
      }),
      clock,
      admin: createAdminVerifier(store, clock, { fixed: 'tsa_x' }),
      logger: createServiceLogger({ level: 'silent' }),
      isShuttingDown: () => shuttingDown,
    });
    expect((await app.fetch(new Request('http://x/readyz'))).status).toBe(200);
    shuttingDown = true;
    const down = await app.fetch(new Request('http://x/readyz'));
    expect(down.status).toBe(503);
    expect(((await down.json()) as { error: { code: string } }).error.code).toBe(
      'ERR_TESSERA_NOT_READY',
    );
    shuttingDown = false;
    store.get = async () => {
      throw new Error('connection refused');
    };
    expect((await app.fetch(new Request('http://x/readyz'))).status).toBe(503);
    expect((await app.fetch(new Request('http://x/healthz'))).status).toBe(200);
    await close();
  });
});
