import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../../src/core/clock.js';
import { rotateAdminCredential } from '../../src/server/admin.js';
import { parseServeConfig } from '../../src/server/config.js';
import { type RunningService, startService } from '../../src/server/serve.js';

const dirs: string[] = [];
const running: RunningService[] = [];
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tessera-svc-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  while (running.length > 0) await running.pop()?.close();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function start(dir = dataDir(), extra: string[] = [], clock = createFakeClock(Date.now())) {
  const svc = await startService(
    parseServeConfig(['--port', '0', '--data-dir', dir, ...extra], {}),
    { env: {}, clock },
  );
  running.push(svc);
  return { svc, dir, clock };
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions
const body = (res: Response): Promise<any> => res.json();

function call(
  svc: RunningService,
  path: string,
  body: unknown,
  credential?: string | null,
  headers: Record<string, string> = {},
) {
  return fetch(`${svc.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(credential ? { authorization: `Bearer ${credential}` } : {}),
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('tessera serve (embedded SQLite default)', () => {
  it('creates its data directory, an owner-only secret and database, and an admin credential printed once', async () => {
    const dir = join(dataDir(), 'nested', 'data');
    const { svc } = await start(dir);
    expect(svc.newAdminCredential).toMatch(/^tsa_[A-Za-z0-9_-]{43}$/);
    expect(statSync(join(dir, 'server-secret')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'tessera.db')).mode & 0o077).toBe(0);
    expect(statSync(dir).mode & 0o077).toBe(0);
    const credential = svc.newAdminCredential;
    await svc.close();
    running.pop();
    const again = await start(dir);
    expect(again.svc.newAdminCredential).toBeNull();
    const res = await call(
      again.svc,
      '/v1/action-tokens/drain',
      { owner: 'u', action: 'a' },
      credential,
    );
    expect(res.status).toBe(200);
  });

  it('answers /healthz without credentials', async () => {
    const { svc } = await start();
    const res = await fetch(`${svc.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await body(res)).toEqual({ status: 'ok' });
  });

  it('refuses /v1 without a valid admin credential, with WWW-Authenticate', async () => {
    const { svc } = await start();
    for (const cred of [null, 'tsa_wrong', `${svc.newAdminCredential}x`]) {
      const res = await call(svc, '/v1/action-tokens/peek', { owner: 'u', action: 'a' }, cred);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="tessera"');
      expect((await body(res)).error.code).toBe('ERR_TESSERA_UNAUTHORIZED');
    }
  });

  it('creates, peeks, uses and drains action tokens end to end', async () => {
    const { svc } = await start();
    const cred = svc.newAdminCredential;
    const created = await call(
      svc,
      '/v1/action-tokens',
      {
        owner: 'u1',
        action: 'verify-email',
        generate: { kind: 'code' },
        data: { email: 'a@example.com' },
      },
      cred,
    );
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const { token, value } = await body(created);
    expect(value).toMatch(/^\d{8}$/);
    expect(token).toMatchObject({
      owner: 'u1',
      action: 'verify-email',
      remainingUses: 5,
      data: { email: 'a@example.com' },
    });
    expect(JSON.stringify(token)).not.toContain(value);

    const peek = await call(
      svc,
      '/v1/action-tokens/peek',
      { owner: 'u1', action: 'verify-email' },
      cred,
    );
    expect((await body(peek)).token.remainingUses).toBe(5);

    const wrong = await call(
      svc,
      '/v1/action-tokens/use',
      { owner: 'u1', action: 'verify-email', value: '00000000' },
      cred,
    );
    expect(await body(wrong)).toEqual({ valid: false, reason: 'invalid_value' });
    const right = await call(
      svc,
      '/v1/action-tokens/use',
      { owner: 'u1', action: 'verify-email', value },
      cred,
    );
    const rightBody = await body(right);
    expect(rightBody.valid).toBe(true);
    expect(rightBody.token.remainingUses).toBe(0);
    const again = await call(
      svc,
      '/v1/action-tokens/use',
      { owner: 'u1', action: 'verify-email', value },
      cred,
    );
    expect(await body(again)).toEqual({ valid: false, reason: 'used_up' });

    const drained = await call(
      svc,
      '/v1/action-tokens/drain',
      { owner: 'u1', action: 'verify-email' },
      cred,
    );
    expect(await body(drained)).toEqual({ drained: true });
    const gone = await call(
      svc,
      '/v1/action-tokens/peek',
      { owner: 'u1', action: 'verify-email' },
      cred,
    );
    expect(gone.status).toBe(404);
    expect((await body(gone)).error.code).toBe('ERR_TESSERA_NOT_FOUND');
  });

  it('answers 409 for a duplicate and 429 with Retry-After for a throttled create', async () => {
    const { svc } = await start();
    const cred = svc.newAdminCredential;
    const first = { owner: 'u', action: 'login', throttle: { windowSeconds: 60 } };
    expect((await call(svc, '/v1/action-tokens', first, cred)).status).toBe(201);
    const dup = await call(svc, '/v1/action-tokens', { owner: 'u', action: 'login' }, cred);
    expect(dup.status).toBe(409);
    const throttled = await call(svc, '/v1/action-tokens', { ...first, overwrite: true }, cred);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('60');
    expect((await body(throttled)).error.code).toBe('ERR_TESSERA_THROTTLED');
  });

  it('rejects malformed requests with 400, 413 or 404 and a stable code', async () => {
    const { svc } = await start(dataDir(), ['--body-limit', '2048']);
    const cred = svc.newAdminCredential;
    const cases: Array<[string, unknown, Record<string, string>, number, string]> = [
      ['/v1/action-tokens', '{not json', {}, 400, 'ERR_TESSERA_INVALID_INPUT'],
      ['/v1/action-tokens', [1, 2], {}, 400, 'ERR_TESSERA_INVALID_INPUT'],
      [
        '/v1/action-tokens',
        { owner: 'u', action: 'a', surprise: 1 },
        {},
        400,
        'ERR_TESSERA_INVALID_INPUT',
      ],
      ['/v1/action-tokens', { owner: 42, action: 'a' }, {}, 400, 'ERR_TESSERA_INVALID_INPUT'],
      [
        '/v1/action-tokens',
        { owner: 'u', action: 'a' },
        { 'content-type': 'text/plain' },
        400,
        'ERR_TESSERA_INVALID_INPUT',
      ],
      [
        '/v1/action-tokens',
        { owner: 'u', action: 'a', data: { big: 'x'.repeat(4096) } },
        {},
        413,
        'ERR_TESSERA_BODY_TOO_LARGE',
      ],
      ['/v1/nothing-here', {}, {}, 404, 'ERR_TESSERA_NO_ROUTE'],
    ];
    for (const [path, payload, headers, status, code] of cases) {
      const res = await call(svc, path, payload, cred, headers);
      expect(res.status, `${path} ${JSON.stringify(payload).slice(0, 40)}`).toBe(status);
      expect((await body(res)).error.code).toBe(code);
    }
    const field = await call(svc, '/v1/action-tokens', { owner: '', action: 'a' }, cred);
    expect((await body(field)).error.field).toBe('owner');
  });

  it('accepts a rotated admin credential and refuses the old one once the one-second cache has passed', async () => {
    const { svc, clock } = await start();
    const old = svc.newAdminCredential;
    const fresh = await rotateAdminCredential(svc.store, clock);
    clock.advance(1001);
    expect(
      (await call(svc, '/v1/action-tokens/drain', { owner: 'u', action: 'a' }, old)).status,
    ).toBe(401);
    expect(
      (await call(svc, '/v1/action-tokens/drain', { owner: 'u', action: 'a' }, fresh)).status,
    ).toBe(200);
  });

  it('uses a fixed admin credential and secret from the environment when given', async () => {
    const dir = dataDir();
    const svc = await startService(parseServeConfig(['--port', '0', '--data-dir', dir], {}), {
      env: {
        TESSERA_ADMIN_TOKEN: 'tsa_fixed-admin-credential',
        TESSERA_SECRET: 'k9:0123456789abcdef0123456789abcdef-env',
      },
    });
    running.push(svc);
    expect(svc.newAdminCredential).toBeNull();
    expect(() => statSync(join(dir, 'server-secret'))).toThrow();
    const res = await call(
      svc,
      '/v1/action-tokens/drain',
      { owner: 'u', action: 'a' },
      'tsa_fixed-admin-credential',
    );
    expect(res.status).toBe(200);
  });

  it('stops accepting connections on close', async () => {
    const { svc } = await start();
    await svc.close();
    running.pop();
    await expect(fetch(`${svc.url}/healthz`)).rejects.toThrow();
  });
});

describe('service configuration', () => {
  it('takes flags over environment over defaults', () => {
    const c = parseServeConfig(['--port', '9001'], {
      TESSERA_PORT: '9002',
      TESSERA_HOST: '0.0.0.0',
    });
    expect(c.port).toBe(9001);
    expect(c.host).toBe('0.0.0.0');
    expect(c.store).toBe('sqlite:');
    expect(parseServeConfig([], {}).port).toBe(8080);
  });

  it('rejects bad values with ConfigError naming the flag or variable', () => {
    const bad: Array<[string[], Record<string, string>, RegExp]> = [
      [['--port', 'abc'], {}, /--port must be a whole number/],
      [['--port', '70000'], {}, /--port must be between 0 and 65535/],
      [[], { TESSERA_PORT: '-1' }, /TESSERA_PORT must be a whole number/],
      [['--frobnicate'], {}, /Unknown option '--frobnicate'/],
      [['--store', 'nope'], {}, /--store must be a store URL/],
      [['--host', 'a b'], {}, /--host is not a valid host/],
      [['--body-limit', '10'], {}, /--body-limit must be between/],
    ];
    for (const [args, env, message] of bad) {
      expect(() => parseServeConfig(args, env)).toThrow(message);
      try {
        parseServeConfig(args, env);
      } catch (err) {
        expect((err as { code?: string }).code).toBe('ERR_TESSERA_CONFIG');
      }
    }
  });

  it('refuses an unknown store scheme with a clear ConfigError', async () => {
    await expect(
      startService(
        parseServeConfig(['--port', '0', '--data-dir', dataDir(), '--store', 'mongodb://x'], {}),
        { env: {} },
      ),
    ).rejects.toMatchObject({
      code: 'ERR_TESSERA_CONFIG',
      message: expect.stringMatching(/unknown store "mongodb:\/\/x"/),
    });
  });
});
