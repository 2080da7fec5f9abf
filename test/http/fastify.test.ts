import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { adminTokensRoutes, authRoutes, tesseraJwt } from '../../src/http/fastify.js';
import { runSharedCases } from './cases.js';
import { createFixture, type Fixture, MOUNTS, mountOptions, type Running } from './fixture.js';

async function start(fx: Fixture): Promise<Running> {
  const o = mountOptions(fx);
  const app = Fastify();
  await app.register(authRoutes, { prefix: MOUNTS.auth, ...o.auth });
  await app.register(authRoutes, { prefix: MOUNTS.oauth, ...o.oauth });
  await app.register(authRoutes, { prefix: MOUNTS.tight, ...o.tight });
  await app.register(authRoutes, { prefix: MOUNTS.tightOauth, ...o.tightOauth });
  await app.register(authRoutes, { prefix: MOUNTS.at, ...o.at });
  await app.register(adminTokensRoutes, { prefix: MOUNTS.admin, ...o.admin });
  await app.register(tesseraJwt, o.guard);
  const { requireJwt, requireAdmin, requireRole } = app.tessera;
  app.get('/api/data', { onRequest: requireJwt }, async (request) => ({ user: request.user }));
  app.get('/api/admin', { onRequest: [requireJwt, requireAdmin] }, async (request) => ({
    user: request.user,
  }));
  app.put('/api/content', { onRequest: [requireJwt, requireRole('editor')] }, async (request) => ({
    user: request.user,
  }));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
}

runSharedCases('fastify', start);

describe('fastify specifics', () => {
  it("keeps its body parsing inside the plugin: the app's own JSON routes still parse", async () => {
    const fx = await createFixture();
    const app = Fastify();
    await app.register(authRoutes, { prefix: '/auth', ...mountOptions(fx).auth });
    app.post('/echo', async (request) => ({ got: request.body }));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const res = await fetch(`${url}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a":1}',
      });
      expect(await res.json()).toEqual({ got: { a: 1 } });
      const token = await fetch(`${url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '',
      });
      expect(token.status).toBe(400);
      expect(await token.json()).toEqual({
        error: {
          message: 'Missing credentials: provide client_secret, Basic auth, or Bearer token',
        },
      });
    } finally {
      await app.close();
    }
  });
});
