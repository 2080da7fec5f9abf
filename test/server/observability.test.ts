import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../../src/core/clock.js';
import { StoreUnavailableError } from '../../src/core/errors.js';
import { createKeyring } from '../../src/core/keyring.js';
import { createAdminVerifier } from '../../src/server/admin.js';
import { createServiceApp } from '../../src/server/app.js';
import { createServiceLogger } from '../../src/server/logger.js';
import type { Store, StoreEvents } from '../../src/stores/contract.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { call, createHarness, LogCapture } from './helpers.js';

const h = createHarness();
afterEach(() => h.stopAll());
afterAll(() => h.cleanup());

/** The value of one Prometheus sample line, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.lastIndexOf('}'));
    const ok = Object.entries(labels).every(([k, v]) => inside.includes(`${k}="${v}"`));
    if (ok) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('metrics', () => {
  it('exposes request latency by route, verify outcomes by reason, and store latency in Prometheus format', async () => {
    const { svc, admin } = await h.start();
    await call(svc, 'POST', '/v1/action-tokens', {
      body: { owner: 'u', action: 'a', generate: { kind: 'code' } },
      credential: admin,
    });
    for (let i = 0; i < 2; i++) {
      await call(svc, 'POST', '/v1/action-tokens/use', {
        body: { owner: 'u', action: 'a', value: '00000000' },
        credential: admin,
      });
    }
    await call(svc, 'POST', '/v1/action-tokens/use', {
      body: { owner: 'ghost', action: 'a', value: '00000000' },
      credential: admin,
    });
    await call(svc, 'POST', '/v1/action-tokens/drain', { body: {}, credential: 'tsa_wrong' });
    const res = await call(svc, 'GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.text;
    expect(text).toContain('# TYPE tessera_http_request_duration_seconds histogram');
    expect(
      sample(text, 'tessera_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/v1/action-tokens/use',
        status: '200',
      }),
    ).toBe(3);
    expect(
      sample(text, 'tessera_http_request_duration_seconds_bucket', {
        route: '/v1/action-tokens',
        status: '201',
        le: '+Inf',
      }),
    ).toBe(1);
    expect(
      sample(text, 'tessera_verify_total', {
        family: 'action_token',
        outcome: 'invalid',
        reason: 'invalid_value',
      }),
    ).toBe(2);
    expect(
      sample(text, 'tessera_verify_total', {
        family: 'action_token',
        outcome: 'invalid',
        reason: 'not_found',
      }),
    ).toBe(1);
    expect(
      sample(text, 'tessera_verify_total', {
        family: 'credential',
        outcome: 'invalid',
        reason: 'invalid_admin',
      }),
    ).toBe(1);
    expect(
      sample(text, 'tessera_store_operation_duration_seconds_count', {
        store: 'sqlite',
        op: 'update',
      }),
    ).toBeGreaterThan(0);
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('counts store errors, answers 503 and fails closed', async () => {
    const store = createMemoryStore();
    const { svc, admin } = await h.start({ store, args: ['--rate-limit-identity', 'off'] });
    const original = store.update.bind(store);
    store.update = async () => {
      throw new StoreUnavailableError('connection refused (test)');
    };
    const res = await call(svc, 'POST', '/v1/action-tokens/use', {
      body: { owner: 'u', action: 'a', value: '12345678' },
      credential: admin,
    });
    store.update = original;
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.body.error.code).toBe('ERR_TESSERA_STORE_UNAVAILABLE');
    expect(res.text).not.toContain('connection refused');
    const text = (await call(svc, 'GET', '/metrics')).text;
    expect(
      sample(text, 'tessera_store_errors_total', {
        store: 'memory',
        op: 'update',
        code: 'ERR_TESSERA_STORE_UNAVAILABLE',
      }),
    ).toBe(1);
  });

  it('can require a role for /metrics, or be switched off', async () => {
    const { svc, admin } = await h.start({ args: ['--metrics', 'protected'] });
    expect((await call(svc, 'GET', '/metrics')).status).toBe(401);
    expect((await call(svc, 'GET', '/metrics', { credential: admin })).status).toBe(200);
    const off = await h.start({ args: ['--metrics', 'off'] });
    expect((await call(off.svc, 'GET', '/metrics')).status).toBe(404);
  });
});

describe('logs', () => {
  it('logs one JSON line per request with its request id, echoed in X-Request-Id', async () => {
    const { svc, admin, logs } = await h.start();
    const mine = await call(svc, 'POST', '/v1/action-tokens/drain', {
      body: { owner: 'u', action: 'a' },
      credential: admin,
      headers: { 'x-request-id': 'client-chosen-id.42' },
    });
    expect(mine.headers.get('x-request-id')).toBe('client-chosen-id.42');
    const generated = await call(svc, 'GET', '/healthz', {
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    const id = generated.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await svc.close();
    h.forget(svc);
    const lines = logs.entries().filter((e) => e.msg === 'request');
    expect(lines).toContainEqual(
      expect.objectContaining({
        reqId: 'client-chosen-id.42',
        method: 'POST',
        route: '/v1/action-tokens/drain',
        status: 200,
        principal: 'admin',
        ms: expect.any(Number),
      }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ reqId: id, route: '/healthz' }));
  });

  it('never logs a secret: credentials, codes, links, access tokens, session and challenge tokens', async () => {
    const { svc, admin, logs } = await h.start({
      args: ['--log-level', 'trace', '--expose-reasons', 'on'],
    });
    const secrets: string[] = [admin];
    const c = async (method: string, path: string, body?: unknown, cred: string = admin) => {
      const r = await call(svc, method, path, { body, credential: cred });
      return r.body;
    };
    const code = await c('POST', '/v1/action-tokens', {
      owner: 'u',
      action: 'verify-email',
      generate: { kind: 'code' },
    });
    const link = await c('POST', '/v1/action-tokens', { owner: 'u', action: 'login' });
    const chosen = 'my-own-chosen-value-0123456789abcdef';
    await c('POST', '/v1/action-tokens', { owner: 'v', action: 'reset', value: chosen });
    secrets.push(code.value, link.value, chosen);
    await c('POST', '/v1/action-tokens/use', {
      owner: 'u',
      action: 'verify-email',
      value: code.value,
    });
    await c('POST', '/v1/action-tokens/use', { action: 'login', value: link.value });
    await c('POST', '/v1/action-tokens/use', {
      owner: 'v',
      action: 'reset',
      value: 'wrong-guess-1',
    });
    secrets.push('wrong-guess-1');
    const pat = await c('POST', '/v1/access-tokens', { owner: 'svc', roles: ['tessera:verify'] });
    secrets.push(pat.token);
    await c('POST', '/v1/access-tokens/verify', { token: pat.token }, pat.token);
    await c('POST', '/v1/access-tokens/verify', { token: `${pat.token}zz` }, pat.token);
    const rotated = await c('POST', `/v1/access-tokens/${pat.record.tokenId}/rotate`, {});
    secrets.push(rotated.token);
    const challenge = await c('POST', '/v1/challenges', {
      action: 'register',
      id: 'a@example.com',
    });
    secrets.push(challenge.secret);
    await c('POST', '/v1/challenges/verify', { token: challenge.secret });
    const session = await c('POST', '/v1/sessions', { owner: 'alice' });
    secrets.push(session.token);
    await c('POST', '/v1/sessions/validate', { token: session.token });
    const st = await c('POST', '/v1/session-tokens', {
      kind: 'bound',
      value: 'v',
      session: { token: session.token },
    });
    secrets.push(st.token);
    await c('POST', '/v1/session-tokens/check', { token: st.token });
    // Failures that reach the error path, with secrets in headers and bodies.
    await c('POST', '/v1/action-tokens', {
      owner: 'u',
      action: 'verify-email',
      value: 'dup-secret-value',
    });
    await c('POST', '/v1/action-tokens/drain', { owner: 'u', action: 'a' }, `${pat.token}`);
    await call(svc, 'GET', `/v1/nothing/${pat.token}?token=${code.value}`, {
      credential: pat.token,
    });
    secrets.push('dup-secret-value');
    await svc.close();
    h.forget(svc);
    const text = logs.text();
    expect(logs.lines.length).toBeGreaterThan(20);
    for (const [i, s] of secrets.entries()) {
      expect(typeof s, `secret #${i}`).toBe('string');
      expect(s.length).toBeGreaterThan(7);
      expect(text.includes(s), `secret ${s.slice(0, 6)}… appears in the logs`).toBe(false);
    }
  });

  it('redacts credential-like fields wherever they appear', () => {
    const out = new LogCapture();
    const logger = createServiceLogger({ destination: out });
    logger.info(
      {
        authorization: 'Bearer top-secret-1',
        token: 'top-secret-2',
        req: { headers: { authorization: 'Bearer top-secret-3', cookie: 'sid=top-secret-4' } },
        body: { value: 'top-secret-5', client_secret: 'top-secret-6', nested: { secret: 'x' } },
        err: Object.assign(new Error('boom'), { code: 'ERR_TESSERA_STORE' }),
      },
      'test',
    );
    logger.flush();
    const text = out.text();
    for (let i = 1; i <= 6; i++) expect(text).not.toContain(`top-secret-${i}`);
    expect(text).toContain('[redacted]');
    expect(out.entries()[0]?.err).toMatchObject({
      errorCode: 'ERR_TESSERA_STORE',
      message: 'boom',
    });
  });
});

describe('background errors', () => {
  it('logs a failed subscription of the access-token verify cache as a warning with its code', async () => {
    const memory = createMemoryStore();
    const events: StoreEvents = {
      publish: (channel, message) => memory.events.publish(channel, message),
      subscribe: async () => {
        throw new StoreUnavailableError('events are down');
      },
    };
    const store: Store = new Proxy(memory, {
      get: (target, prop, receiver) =>
        prop === 'events' ? events : Reflect.get(target, prop, receiver),
    });
    const clock = createFakeClock(Date.now());
    const out = new LogCapture();
    const logger = createServiceLogger({ destination: out });
    const { close } = createServiceApp({
      store,
      keyring: createKeyring({
        keys: [{ id: 'k1', secret: 'bg-errors-secret-0123456789abcdefghijklmn' }],
      }),
      clock,
      admin: createAdminVerifier(store, clock, { fixed: 'tsa_x' }),
      logger,
      logRequests: false,
    });
    // The first attempt fails at once; wait for its log line (bounded).
    for (let i = 0; i < 500 && !out.text().includes('access tokens'); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await close();
    const entry = out.entries().find((e) => String(e.msg).startsWith('access tokens'));
    expect(entry).toMatchObject({
      level: 40,
      err: { errorCode: 'ERR_TESSERA_STORE_UNAVAILABLE', message: 'events are down' },
    });
  });
});
