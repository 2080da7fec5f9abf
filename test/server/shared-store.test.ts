/**
 * Several service instances on one shared store keep every guarantee (the
 * service is stateless): on a SQLite file, on PostgreSQL and on Redis, over
 * real HTTP. Networked backends are skipped with a loud warning when they are
 * not reachable locally, and fail in CI.
 */
import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../../src/core/clock.js';
import { call, createHarness, type Json, type Started, skipUnreachable } from './helpers.js';

const h = createHarness();
afterEach(() => h.stopAll());
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups) await c().catch(() => {});
  h.cleanup();
});

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.setTimeout(1000);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

const suffix = randomBytes(4).toString('hex');
const backends: Array<{
  name: string;
  port?: number;
  url: (dir: string) => string;
  cleanup?: () => Promise<void>;
}> = [
  { name: 'SQLite file', url: (dir) => `sqlite:${join(dir, 'shared.db')}` },
  {
    name: 'PostgreSQL',
    port: 5432,
    url: () => `postgres://postgres@127.0.0.1:5432/test?schema=svc_${suffix}`,
    cleanup: async () => {
      const pg = (await import('pg')).default;
      const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS svc_${suffix} CASCADE`);
      await client.end();
    },
  },
  {
    name: 'Redis',
    port: 6379,
    url: () => `redis://127.0.0.1:6379?prefix=tessera-svc-test-${suffix}`,
    cleanup: async () => {
      const { Redis } = await import('ioredis');
      const r = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
      await r.connect();
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(
          cursor,
          'MATCH',
          `*tessera-svc-test-${suffix}*`,
          'COUNT',
          500,
        );
        cursor = next;
        if (keys.length > 0) await r.del(...keys);
      } while (cursor !== '0');
      await r.quit();
    },
  },
];

for (const backend of backends) {
  describe(`two instances on one ${backend.name} store`, () => {
    let ok = true;
    it.sequential('reach the backend', async (ctx) => {
      if (backend.port !== undefined) {
        ok = !skipUnreachable(backend.name, await reachable(backend.port));
        if (!ok) ctx.skip();
        if (backend.cleanup) cleanups.push(backend.cleanup);
      }
      expect(ok).toBe(true);
    });

    async function pair(args: string[] = []): Promise<[Started, Started]> {
      const dir = h.dataDir();
      const clock = createFakeClock(Date.now());
      const common = {
        dir,
        clock,
        env: { TESSERA_SECRET: 'k1:shared-secret-0123456789abcdefghijklmnopq' },
        args: ['--store', backend.url(dir), '--rate-limit-identity', 'off', ...args],
      };
      const a = await h.start(common);
      const b = await h.start(common);
      return [a, b];
    }

    it('serve, are ready, and share action tokens: a token used on one cannot be used on the other', async (ctx) => {
      if (!ok) ctx.skip();
      const [a, b] = await pair();
      expect((await call(a.svc, 'GET', '/readyz')).status).toBe(200);
      const post = (s: Started, path: string, body: unknown) =>
        call(s.svc, 'POST', path, { body, credential: a.admin });
      const created = await post(a, '/v1/action-tokens', { owner: 'u', action: 'login' });
      if (created.status !== 201)
        console.error(a.logs.lines.filter((l) => l.includes('"level":50')));
      expect(created.status).toBe(201);
      const link = created.body.value;
      expect(
        (await post(b, '/v1/action-tokens/use', { action: 'login', value: link })).body.valid,
      ).toBe(true);
      expect(
        (await post(a, '/v1/action-tokens/use', { action: 'login', value: link })).body,
      ).toEqual({
        valid: false,
      });

      // K concurrent uses across both instances on N remaining uses: exactly N succeed.
      await post(a, '/v1/action-tokens', {
        owner: 'racer',
        action: 'otp',
        value: 'race-value',
        remainingUses: 3,
      });
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          post(i % 2 ? a : b, '/v1/action-tokens/use', {
            owner: 'racer',
            action: 'otp',
            value: 'race-value',
            drainWhenValid: false,
          }),
        ),
      );
      expect(results.filter((r) => r.body.valid === true)).toHaveLength(3);
      expect(results.every((r) => r.status === 200)).toBe(true);
    });

    it('share access tokens, their revocation, sessions and rate limits', async (ctx) => {
      if (!ok) ctx.skip();
      const [a, b] = await pair(['--rate-limit-ip', '3/60']);
      const issued = await call(a.svc, 'POST', '/v1/access-tokens', {
        body: { owner: 'svc', roles: ['tessera:verify'] },
        credential: a.admin,
      });
      const token = issued.body.token as string;
      const verifyOn = (s: Started) =>
        call(s.svc, 'POST', '/v1/access-tokens/verify', { body: { token }, credential: token });
      expect((await verifyOn(b)).body.valid).toBe(true);
      await call(a.svc, 'POST', `/v1/access-tokens/${issued.body.record.tokenId}/revoke`, {
        body: {},
        credential: a.admin,
      });
      // The other instance refuses it at once: by store event where it caches (Redis,
      // PostgreSQL), by reading the store where events stay in one process (SQLite). Polled in
      // real time, the fake clock standing still, so a cache entry can never just expire.
      const deadline = Date.now() + 1000;
      let status = (await verifyOn(b)).status;
      while (status !== 401 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        status = (await verifyOn(b)).status;
      }
      expect(status).toBe(401);

      const session = (
        await call(a.svc, 'POST', '/v1/sessions', { body: { owner: 'alice' }, credential: a.admin })
      ).body as Json;
      const validate = (s: Started) =>
        call(s.svc, 'POST', '/v1/sessions/validate', {
          body: { token: session.token },
          credential: a.admin,
        });
      expect((await validate(b)).body.valid).toBe(true);
      await call(b.svc, 'POST', '/v1/sessions/destroy', {
        body: { token: session.token },
        credential: a.admin,
      });
      expect((await validate(a)).body).toEqual({ valid: false });

      // Failed authentications count per IP across instances.
      const bad = (s: Started) =>
        call(s.svc, 'POST', '/v1/action-tokens/drain', {
          body: { owner: 'u', action: 'a' },
          credential: 'tsa_wrong',
        });
      expect([(await bad(a)).status, (await bad(b)).status, (await bad(a)).status]).toEqual([
        401, 401, 429,
      ]);
    });
  });
}
