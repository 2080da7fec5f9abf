/**
 * Row 6, sessions on one Redis server, measured three ways:
 * - `sessions-http` (the row, target 3x): over HTTP, each server in
 *   its own child process (sessions-server.ts), loaded with autocannon (50
 *   connections) in rounds whose order alternates. Tessera: the service's
 *   `POST /v1/sessions/validate` on the Redis store, called with a PAT as an
 *   application would. Baseline: an Express 5 app with express-session 1.19 +
 *   connect-redis 9 (node-redis 5) whose route reads the session (GET + EXPIRE
 *   per request). 100 sessions each, requests cycle through them; every answer
 *   is checked to say the session is valid.
 * - `sessions-http-embedded` (no target, same rounds): Tessera sessions inside
 *   the application as express-session is, in a Hono route, against the same
 *   Express app: what the service's own stack costs on top.
 * - `sessions-inproc` (no target: no HTTP on either side): `sessions.validate()`
 *   on the Redis store against express-session's per-request store work
 *   (cookie-signature unsign, connect-redis get + touch), 50 in flight.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createSessions } from '../../src/sessions/index.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import {
  type CustomRow,
  type Entry,
  median,
  type Row,
  type RowResult,
  stats,
  unavailable,
} from '../harness.js';
import { peersInstalled, REDIS_URL, redisReachable, requirePeer } from './backends.js';

const IDS = [
  { id: 'sessions-http', title: 'Session validate over HTTP, Redis, service route (50 conns)' },
  {
    id: 'sessions-http-embedded',
    title: 'Session validate over HTTP, Redis, embedded in a Hono app (50 conns)',
  },
  {
    id: 'sessions-inproc',
    title: 'Session validate, Redis, in process (no HTTP)',
  },
];
const SESSIONS = 100;

interface CannonResult {
  requests: { average: number };
  latency: { p99: number };
  non2xx: number;
  errors: number;
  mismatches: number;
}
type Cannon = (opts: Record<string, unknown>) => Promise<CannonResult>;

interface Server {
  readonly opts: Record<string, unknown>;
  readonly child: ChildProcess;
}

/** Delete every key under a prefix pattern. */
async function scrub(client: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.unlink(...keys);
  } while (cursor !== '0');
}

/** Delete the keys a run left under `prefix` (both servers' and the in-process row's). */
async function scrubPrefix(prefix: string): Promise<void> {
  const c = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    await scrub(c, `{${prefix}*`);
    await scrub(c, `${prefix}*`);
  } finally {
    await c.quit();
  }
}

type Mode = 'express' | 'service' | 'embedded';

/** Start a server child; resolve once it prints READY with its URL, credential and sessions. */
async function startServer(mode: Mode, prefix: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'sessions-server.ts'), mode, prefix],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [url, credential, list] = await new Promise<string[]>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /READY (\S+) (\S+) (\[.*\])\n/.exec(out);
      if (m) resolve([m[1], m[2], m[3]] as string[]);
    });
    child.on('exit', (code) => reject(new Error(`${mode} server exited ${code}`)));
  });
  const values = JSON.parse(list!) as string[];
  const valid = (body: string) => body.startsWith('{"valid":true');
  if (mode !== 'service') {
    return {
      child,
      opts: {
        url: `${url}/me`,
        connections: 50,
        verifyBody: valid,
        requests: values.map((cookie) => ({ method: 'GET', path: '/me', headers: { cookie } })),
      },
    };
  }
  return {
    child,
    opts: {
      url: `${url}/v1/sessions/validate`,
      connections: 50,
      verifyBody: valid,
      requests: values.map((token) => ({
        method: 'POST',
        path: '/v1/sessions/validate',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${credential}` },
        body: JSON.stringify({ token }),
      })),
    },
  };
}

function stop(s: Server | undefined): Promise<void> {
  if (!s || s.child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    s.child.once('exit', () => resolve());
    s.child.kill('SIGTERM');
  });
}

/** Summarize the rounds of `subject` against the baseline's. */
function result(
  id: string,
  subjectName: string,
  s: readonly CannonResult[],
  b: readonly CannonResult[],
  target?: number,
): RowResult {
  const sP99 = median(s.map((r) => r.latency.p99));
  const bP99 = median(b.map((r) => r.latency.p99));
  return {
    id,
    title: IDS.find((x) => x.id === id)!.title,
    subjectName,
    baselineName: 'Express 5 + express-session + connect-redis, route reading the session',
    subject: stats(s.map((r) => r.requests.average)),
    baseline: stats(b.map((r) => r.requests.average)),
    ratio: median(s.map((r, i) => r.requests.average / b[i]!.requests.average)),
    ...(target === undefined ? {} : { target }),
    unit: 'req/s',
    p99: { subjectMs: sP99, baselineMs: bP99, ratio: sP99 / bP99 },
  };
}

/**
 * The HTTP rows: the service's validate route (the row) and Tessera
 * embedded in a Hono app, each against Express + express-session, in rounds
 * whose order alternates.
 */
function httpRow(): CustomRow {
  return {
    id: 'sessions-http',
    title: IDS[0]!.title,
    async run(runs, durationMs): Promise<RowResult[]> {
      // autocannon ships no types.
      const autocannon = (await import('autocannon' as string)).default as Cannon;
      const seconds = Math.max(1, Math.round((durationMs * 2.5) / 1000));
      const prefix = `tessera-bench-${randomBytes(3).toString('hex')}`;
      const servers: Partial<Record<Mode, Server>> = {};
      try {
        // Started side by side; every start settles before the first failure is thrown,
        // so `finally` stops every child that came up.
        const starts = await Promise.allSettled(
          (['express', 'service', 'embedded'] as const).map(async (mode) => {
            servers[mode] = await startServer(mode, prefix);
          }),
        );
        for (const r of starts) if (r.status === 'rejected') throw r.reason;
        const fire = async (mode: Mode, duration: number) => {
          const r = await autocannon({ ...servers[mode]!.opts, duration });
          if (r.non2xx > 0 || r.errors > 0 || r.mismatches > 0) {
            throw new Error(
              `autocannon (${mode}): ${r.non2xx} non-2xx answers, ${r.errors} errors, ${r.mismatches} invalid sessions`,
            );
          }
          return r;
        };
        const order: Mode[] = ['service', 'express', 'embedded'];
        // Warm-up (JIT, connections); a quick run (under 1 s per run) skips it.
        if (durationMs >= 1000) for (const mode of order) await fire(mode, 1);
        const got: Record<Mode, CannonResult[]> = { express: [], service: [], embedded: [] };
        for (let i = 0; i < runs; i++) {
          for (const mode of i % 2 === 0 ? order : [...order].reverse()) {
            got[mode].push(await fire(mode, seconds));
          }
        }
        return [
          result(
            'sessions-http',
            'Tessera service POST /v1/sessions/validate (PAT-authenticated)',
            got.service,
            got.express,
            3,
          ),
          result(
            'sessions-http-embedded',
            'Tessera sessions.validate() in a Hono route',
            got.embedded,
            got.express,
          ),
        ];
      } finally {
        for (const s of Object.values(servers)) await stop(s);
        await scrubPrefix(prefix);
      }
    },
  };
}

interface PeerStore {
  set(sid: string, sess: unknown): Promise<unknown>;
  get(sid: string): Promise<unknown>;
  touch(sid: string, sess: unknown): Promise<unknown>;
}

/** The in-process row: `sessions.validate()` against express-session's store work. */
function inProcessRow(): Row {
  const prefix = `tessera-bench-${randomBytes(3).toString('hex')}`;
  let client: Redis | undefined;
  let nodeRedis: { quit(): Promise<unknown>; connect(): Promise<unknown> } | undefined;
  let validate: () => Promise<unknown> = async () => undefined;
  let expressSession: () => Promise<unknown> = async () => undefined;
  return {
    id: IDS[2]!.id,
    title: IDS[2]!.title,
    subject: { name: 'Tessera sessions.validate() (one HGETALL)', op: () => validate() },
    baseline: {
      name: "express-session's store work: unsign, connect-redis get + touch (GET, EXPIRE)",
      op: () => expressSession(),
    },
    concurrency: 50,
    setup: async () => {
      client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
      const sessions = createSessions({ store: createRedisStore({ client, prefix }) });
      const tokens: string[] = [];
      for (let s = 0; s < SESSIONS; s++) {
        tokens.push((await sessions.create({ owner: `u${s}` })).token);
      }
      let i = 0;
      validate = async () => {
        const r = await sessions.validate(tokens[i++ % SESSIONS]!);
        if (!r.valid) throw new Error('session invalid');
      };
      const { createClient } = requirePeer('redis') as {
        createClient(o: { url: string }): typeof nodeRedis;
      };
      const { RedisStore } = requirePeer('connect-redis') as {
        RedisStore: new (o: unknown) => PeerStore;
      };
      // The cookie-signature that express-session itself loads.
      const signature = createRequire(
        (requirePeer as unknown as NodeJS.Require).resolve('express-session'),
      )('cookie-signature') as {
        sign(v: string, secret: string): string;
        unsign(v: string, secret: string): string | false;
      };
      nodeRedis = createClient({ url: REDIS_URL });
      await nodeRedis!.connect();
      const store = new RedisStore({ client: nodeRedis, prefix: `${prefix}-sess:` });
      const secret = 'keyboard cat';
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
        cookies.push(`s:${signature.sign(sid, secret)}`);
      }
      let j = 0;
      expressSession = async () => {
        const sid = signature.unsign(cookies[j++ % SESSIONS]!.slice(2), secret);
        if (sid === false) throw new Error('bad cookie');
        const sess = await store.get(sid);
        if (!sess) throw new Error('session missing');
        await store.touch(sid, sess);
      };
    },
    teardown: async () => {
      await nodeRedis?.quit();
      nodeRedis = undefined;
      await client?.quit();
      client = undefined;
      await scrubPrefix(prefix);
    },
  };
}

/** The sessions rows (skipped when Redis is not reachable). */
export async function sessionRows(): Promise<Entry[]> {
  if (!(await redisReachable())) return unavailable(`Redis at ${REDIS_URL}`, IDS);
  if (!peersInstalled())
    throw new Error('bench/peers is not installed: npm ci --prefix bench/peers');
  return [httpRow(), inProcessRow()];
}
