import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import {
  createAdminTokensApp,
  createAuthApp,
  createRequireAdmin,
  createRequireJwt,
  createRequireRole,
  type TesseraEnv,
} from '../../src/http/hono.js';
import { runSharedCases } from './cases.js';
import { createFixture, type Fixture, MOUNTS, mountOptions, type Running } from './fixture.js';

async function listen(app: Hono<TesseraEnv>): Promise<Running> {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function start(fx: Fixture): Promise<Running> {
  const o = mountOptions(fx);
  const app = new Hono<TesseraEnv>();
  app.route(MOUNTS.auth, createAuthApp(o.auth));
  app.route(MOUNTS.oauth, createAuthApp(o.oauth));
  app.route(MOUNTS.tight, createAuthApp(o.tight));
  app.route(MOUNTS.tightOauth, createAuthApp(o.tightOauth));
  app.route(MOUNTS.at, createAuthApp(o.at));
  app.route(MOUNTS.admin, createAdminTokensApp(o.admin));
  const requireJwt = createRequireJwt(o.guard);
  app.get('/api/data', requireJwt, (c) => c.json({ user: c.get('user') }));
  app.get('/api/admin', requireJwt, createRequireAdmin(), (c) => c.json({ user: c.get('user') }));
  app.put('/api/content', requireJwt, createRequireRole({ role: 'editor' }), (c) =>
    c.json({ user: c.get('user') }),
  );
  return listen(app);
}

runSharedCases('hono', start);

describe('hono specifics', () => {
  it('throttles per the client IP that getIp reports', async () => {
    const fx = await createFixture();
    const app = new Hono<TesseraEnv>();
    app.route(
      '/auth',
      createAuthApp({
        ...mountOptions(fx).auth,
        throttle: { store: fx.store, perIp: { limit: 1, windowSeconds: 60 } },
        getIp: (c) => c.req.header('x-test-ip') ?? '',
      }),
    );
    const server = await listen(app);
    const exchange = (ip: string) =>
      fetch(`${server.url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-test-ip': ip },
        body: JSON.stringify({ client_secret: fx.userPat }),
      });
    try {
      expect((await exchange('198.51.100.1')).status).toBe(200);
      expect((await exchange('198.51.100.2')).status).toBe(200);
      const third = await exchange('198.51.100.1');
      expect(third.status).toBe(429);
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });

  it("reads a body that an earlier middleware already read (from Hono's body cache)", async () => {
    const fx = await createFixture();
    const app = new Hono<TesseraEnv>();
    let seen: unknown;
    app.use('*', async (c, next) => {
      seen = await c.req.json();
      await next();
    });
    app.route('/auth', createAuthApp(mountOptions(fx).auth));
    const server = await listen(app);
    try {
      const res = await fetch(`${server.url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_secret: fx.userPat, state: 'cached' }),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ token_type: 'Bearer', state: 'cached' });
      expect(seen).toMatchObject({ state: 'cached' });
    } finally {
      await server.close();
    }
  });

  it('reads the body with the shared Node reader: gzip inflated, bounded after inflation, other encodings 415', async () => {
    const fx = await createFixture();
    const app = new Hono<TesseraEnv>();
    app.route('/auth', createAuthApp(mountOptions(fx).auth));
    const server = await listen(app);
    const post = (body: Buffer, encoding: string) =>
      fetch(`${server.url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': encoding },
        body,
      });
    try {
      const ok = await post(gzipSync(JSON.stringify({ client_secret: fx.userPat })), 'gzip');
      expect(ok.status).toBe(200);
      // 10 MB of zeros compress to about 10 KB: refused once 100 KiB are inflated.
      const bomb = gzipSync(Buffer.from(`{"state":"${'0'.repeat(10_000_000)}"}`));
      expect(bomb.length).toBeLessThan(102_400);
      const big = await post(bomb, 'gzip');
      expect(big.status).toBe(413);
      expect(big.headers.get('connection')).toBe('close');
      expect(await big.json()).toEqual({ error: { message: 'Request body too large' } });
      const odd = await post(Buffer.from('{}'), 'compress');
      expect(odd.status).toBe(415);
      expect(await odd.json()).toEqual({
        error: { message: 'Invalid request body', details: 'Malformed request body' },
      });
    } finally {
      await server.close();
    }
  });
});
