/**
 * A server for the verify benchmark (see http.ts): `bare` is a bare
 * Hono JSON route; `service` is the Tessera service on the memory store.
 * Prints `READY <url> <token> <credential>` once listening.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { pino } from 'pino';
import { createFakeClock } from '../../src/core/clock.js';
import { parseServeConfig } from '../../src/server/config.js';
import { startService } from '../../src/server/serve.js';

const mode = process.argv[2] ?? 'service';
const extra = process.argv.slice(3);
if (mode === 'bare') {
  const app = new Hono();
  app.post('/v1/access-tokens/verify', async (c) => {
    const body = (await c.req.json()) as { token?: string };
    return c.json({ valid: typeof body.token === 'string' });
  });
  const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
    console.log(`READY http://127.0.0.1:${info.port} x x`);
  });
  process.on('SIGTERM', () => s.close(() => process.exit(0)));
} else {
  const admin = 'tsa_bench-admin-credential-0123456789abcdefghijkl';
  const svc = await startService(
    parseServeConfig(
      ['--port', '0', '--store', 'memory:', '--data-dir', '/tmp/tessera-bench', ...extra],
      {},
    ),
    {
      env: {
        TESSERA_ADMIN_TOKEN: admin,
        TESSERA_SECRET: 'k1:bench-secret-0123456789abcdefghijklmnopqrstuv',
      },
      clock: createFakeClock(Date.now()),
      logDestination: pino.destination({ dest: '/dev/null', sync: false }),
    },
  );
  const res = await fetch(`${svc.url}/v1/access-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ owner: 'bench', roles: ['tessera:verify'] }),
  });
  const { token } = (await res.json()) as { token: string };
  console.log(`READY ${svc.url} ${token} ${token}`);
  process.on('SIGTERM', () => svc.close(1000).then(() => process.exit(0)));
}
