/**
 * A server for the HTTP sessions benchmark (see sessions.ts), on the Redis at
 * `TESSERA_REDIS_URL` under a key prefix given as the second argument:
 * - `express`: an Express 5 app with express-session 1.19 and connect-redis 9
 *   (node-redis 5) whose route reads the session (`GET /me`); 100 sessions are
 *   stored as a login would leave them, and their signed cookies printed;
 * - `service`: the Tessera service (`tessera serve` on the Redis store, default
 *   settings except a per-credential rate limit the load never reaches); a
 *   PAT with the `tessera:sessions` role creates 100 sessions through the API;
 * - `embedded`: Tessera sessions inside the application, as express-session
 *   is: a Hono app (on @hono/node-server) whose route reads the session
 *   cookie and calls `sessions.validate()` on the Redis store (an ioredis
 *   client with its defaults, no keyring).
 * Further arguments go to the service's flags.
 * Prints `READY <url> <credential> <JSON array of session tokens or cookies>`.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { serve } from '@hono/node-server';
import express from 'express';
import { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { parseServeConfig } from '../../src/server/config.js';
import { startService } from '../../src/server/serve.js';
import { createSessions } from '../../src/sessions/index.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { REDIS_URL, requirePeer } from './backends.js';

const SESSIONS = 100;
const mode = process.argv[2];
const prefix = process.argv[3];
const extra = process.argv.slice(4);
if ((mode !== 'express' && mode !== 'service' && mode !== 'embedded') || !prefix) {
  throw new Error('usage: sessions-server.ts express|service|embedded <key prefix>');
}

interface PeerStore {
  set(sid: string, sess: unknown): Promise<unknown>;
}

async function expressServer(): Promise<void> {
  const session = requirePeer('express-session') as (o: Record<string, unknown>) => express.Handler;
  const { RedisStore } = requirePeer('connect-redis') as {
    RedisStore: new (o: unknown) => PeerStore;
  };
  const { createClient } = requirePeer('redis') as {
    createClient(o: { url: string }): { connect(): Promise<unknown>; quit(): Promise<unknown> };
  };
  // The cookie-signature that express-session itself loads.
  const sessionRequire = createRequire(
    (requirePeer as unknown as NodeJS.Require).resolve('express-session'),
  );
  const signature = sessionRequire('cookie-signature') as {
    sign(v: string, secret: string): string;
  };
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  const store = new RedisStore({ client, prefix: `${prefix}-sess:` });
  const secret = 'keyboard cat';
  const app = express();
  // The settings express-session's README recommends for a store with touch().
  app.use(session({ store, secret, resave: false, saveUninitialized: false }));
  app.get('/me', (req, res) => {
    const user = (req as unknown as { session: { user?: string } }).session.user;
    if (user === undefined) res.status(401).json({ valid: false });
    else res.json({ valid: true, user });
  });
  const cookies: string[] = [];
  for (let s = 0; s < SESSIONS; s++) {
    const sid = randomBytes(24).toString('base64url');
    await store.set(sid, {
      cookie: {
        originalMaxAge: 604_800_000,
        expires: new Date(Date.now() + 604_800_000),
        httpOnly: true,
        path: '/',
      },
      user: `u${s}`,
    });
    cookies.push(`connect.sid=${encodeURIComponent(`s:${signature.sign(sid, secret)}`)}`);
  }
  const server = app.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    console.log(`READY http://127.0.0.1:${port} x ${JSON.stringify(cookies)}`);
  });
  process.on('SIGTERM', () => server.close(() => client.quit().then(() => process.exit(0))));
}

async function serviceServer(): Promise<void> {
  const admin = `tsa_bench-admin-${randomBytes(24).toString('base64url')}`;
  const svc = await startService(
    parseServeConfig(
      [
        '--port',
        '0',
        '--store',
        `${REDIS_URL}?prefix=${prefix}`,
        '--data-dir',
        '/tmp/tessera-bench',
        // The per-credential limiter stays on the path, with a limit the load never reaches.
        '--rate-limit-identity',
        '999999999/60',
        ...extra,
      ],
      {},
    ),
    {
      env: {
        TESSERA_ADMIN_TOKEN: admin,
        TESSERA_SECRET: 'k1:bench-secret-0123456789abcdefghijklmnopqrstuv',
      },
      logDestination: pino.destination({ dest: '/dev/null', sync: false }),
    },
  );
  const call = async (path: string, credential: string, body: unknown) => {
    const res = await fetch(`${svc.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { token: string };
  };
  const { token: pat } = await call('/v1/access-tokens', admin, {
    owner: 'bench-app',
    roles: ['tessera:sessions'],
  });
  const tokens: string[] = [];
  for (let s = 0; s < SESSIONS; s++) {
    tokens.push((await call('/v1/sessions', pat, { owner: `u${s}` })).token);
  }
  console.log(`READY ${svc.url} ${pat} ${JSON.stringify(tokens)}`);
  process.on('SIGTERM', () => svc.close(1000).then(() => process.exit(0)));
}

async function embeddedServer(): Promise<void> {
  const client = new Redis(REDIS_URL);
  const sessions = createSessions({ store: createRedisStore({ client, prefix }) });
  const app = new Hono();
  app.get('/me', async (c) => {
    const token = getCookie(c, 'session');
    const r = token === undefined ? null : await sessions.validate(token);
    if (r === null || !r.valid) return c.json({ valid: false }, 401);
    return c.json({ valid: true, user: r.session.owner });
  });
  const cookies: string[] = [];
  for (let s = 0; s < SESSIONS; s++) {
    cookies.push(`session=${(await sessions.create({ owner: `u${s}` })).token}`);
  }
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
    console.log(`READY http://127.0.0.1:${info.port} x ${JSON.stringify(cookies)}`);
  });
  process.on('SIGTERM', () => server.close(() => client.quit().then(() => process.exit(0))));
}

if (mode === 'express') await expressServer();
else if (mode === 'service') await serviceServer();
else await embeddedServer();
