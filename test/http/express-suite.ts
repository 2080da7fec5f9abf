/**
 * The Express test suite, for every supported major: the shared cases and
 * Express-only behaviour. `express.test.ts` runs it on Express 5;
 * `express4.test.ts` runs it with the module \`express\` resolved to Express 4
 * (the `express4` npm alias), the way an Express 4 app resolves it.
 */
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import express from 'express';
import { describe, expect, it } from 'vitest';
import {
  createAdminTokensRouter,
  createAuthRouter,
  createRequireAdmin,
  createRequireJwt,
  createRequireRole,
} from '../../src/http/express.js';
import { runSharedCases } from './cases.js';
import { createFixture, type Fixture, MOUNTS, mountOptions, type Running } from './fixture.js';

async function listen(app: express.Express): Promise<Running> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function start(fx: Fixture): Promise<Running> {
  const o = mountOptions(fx);
  const app = express();
  app.use(MOUNTS.auth, createAuthRouter(o.auth));
  app.use(MOUNTS.oauth, createAuthRouter(o.oauth));
  app.use(MOUNTS.tight, createAuthRouter(o.tight));
  app.use(MOUNTS.tightOauth, createAuthRouter(o.tightOauth));
  app.use(MOUNTS.at, createAuthRouter(o.at));
  app.use(MOUNTS.admin, createAdminTokensRouter(o.admin));
  const requireJwt = createRequireJwt(o.guard);
  app.get('/api/data', requireJwt, (req, res) => {
    res.json({ user: req.user });
  });
  app.get('/api/admin', requireJwt, createRequireAdmin(), (req, res) => {
    res.json({ user: req.user });
  });
  app.put('/api/content', requireJwt, createRequireRole({ role: 'editor' }), (req, res) => {
    res.json({ user: req.user });
  });
  return listen(app);
}

/**
 * Define the Express tests.
 * @param label - the framework label, e.g. `express 4`
 * @param major - the Express major that `express` must resolve to here
 */
export function defineExpressSuite(label: string, major: 4 | 5): void {
  it(`runs on Express ${major}, in the app and inside tessera/express`, async () => {
    // app.del was removed in Express 5; Express 4 layers have a `regexp`, Express 5 ones `matchers`.
    expect(typeof (express() as unknown as { del?: unknown }).del).toBe(
      major === 4 ? 'function' : 'undefined',
    );
    const router = createAuthRouter(mountOptions(await createFixture()).auth) as unknown as {
      stack: Record<string, unknown>[];
    };
    expect('regexp' in (router.stack[0] ?? {})).toBe(major === 4);
  });

  runSharedCases(label, start);

  describe(`${label} specifics`, () => {
    it('works behind app-level express.json() (the seed quick start), revoke without a body included', async () => {
      const fx = await createFixture();
      const o = mountOptions(fx);
      const app = express();
      app.use(express.json());
      app.use(express.urlencoded({ extended: true }));
      app.use('/auth', createAuthRouter(o.auth));
      app.use('/admin', createAdminTokensRouter(o.admin));
      const server = await listen(app);
      try {
        const token = await fetch(`${server.url}/auth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ client_secret: fx.userPat, state: 's' }),
        });
        expect(token.status).toBe(200);
        expect(await token.json()).toMatchObject({ token_type: 'Bearer', state: 's' });
        const revoke = await fetch(`${server.url}/admin/tokens/${fx.userId}/revoke`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${fx.adminJwt}` },
        });
        expect(revoke.status).toBe(204);
      } finally {
        await server.close();
      }
    });

    it("leaves the bodies of the app's other routes alone when mounted at the root", async () => {
      const fx = await createFixture();
      const app = express();
      app.use(createAuthRouter(mountOptions(fx).auth));
      app.post('/echo', express.json(), (req, res) => {
        res.json({ got: req.body });
      });
      const server = await listen(app);
      try {
        const res = await fetch(`${server.url}/echo`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"a":1}',
        });
        expect(await res.json()).toEqual({ got: { a: 1 } });
        const jwks = await fetch(`${server.url}/.well-known/jwks.json`);
        expect(jwks.status).toBe(200);
      } finally {
        await server.close();
      }
    });

    it('answers 500 when the access-token store fails, on this Express major too', async () => {
      const fx = await createFixture();
      const failing = {
        ...mountOptions(fx).admin,
        pat: {
          ...fx.pat,
          verify: () => Promise.reject(new Error('store down')),
          list: () => {
            throw new Error('store down');
          },
        } as unknown as typeof fx.pat,
      };
      const app = express();
      app.use('/auth', createAuthRouter(failing));
      app.use('/admin', createAdminTokensRouter(failing));
      const server = await listen(app);
      try {
        const token = await fetch(`${server.url}/auth/token`, {
          method: 'POST',
          headers: { authorization: `Bearer ${fx.userPat}` },
        });
        expect(token.status).toBe(500);
        expect(await token.json()).toEqual({ error: { message: 'Internal server error' } });
        const list = await fetch(`${server.url}/admin/tokens`, {
          headers: { authorization: `Bearer ${fx.adminJwt}` },
        });
        expect(list.status).toBe(500);
      } finally {
        await server.close();
      }
    });

    it('inflates gzip bodies as Express body parsers do, bounding the inflated size', async () => {
      const fx = await createFixture();
      const app = express();
      app.use('/auth', createAuthRouter(mountOptions(fx).auth));
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
        expect(await big.json()).toEqual({ error: { message: 'Request body too large' } });
        const odd = await post(Buffer.from('{}'), 'compress');
        expect(odd.status).toBe(415);
      } finally {
        await server.close();
      }
    });
  });
}
