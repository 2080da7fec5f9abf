/**
 * Hostile input over real HTTP: at least 10,000 generated malformed or hostile
 * requests (bad JSON, huge and deeply nested bodies, wrong types, unicode and
 * control characters, oversized tokens, path tricks) against every route the
 * service lists in /openapi.json, plus raw-socket header injection. Seeded,
 * so a failure reproduces (`TESSERA_FUZZ_SEED`). Zero 5xx, the process alive,
 * memory bounded.
 *
 * The service runs on a SQLite store in its data directory, with debug logs
 * and request logs on. Real credentials of every family are issued first, and
 * a few well-formed requests are mixed in, so hostile requests also carry real
 * secrets (in secret fields and as bearer credentials) and reach real records.
 * Afterwards the service is stopped (its logs flushed) and every log line, every
 * row of its SQLite store and every file of its data directory are scanned for
 * every secret the run issued or configured (plain, hex or base64): zero hits.
 */
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordFigures, scale } from './support/figures.js';
import { filesUnder, SecretLog, scanAndRecord } from './support/leaks.js';
import {
  ADMIN,
  type Answer,
  api,
  ensureBuilt,
  removeTempDirs,
  type Served,
  serve,
  serviceSecrets,
  tempDir,
} from './support/serve.js';
import { dumpSqlite } from './support/stores.js';

const SEED = Number(process.env.TESSERA_FUZZ_SEED ?? 20_261_122);
const TOTAL = scale(10_000, 100_000);
const CONCURRENCY = 32;

/** mulberry32: a small seeded PRNG (test input only, never secrets). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Share of iterations that also send one well-formed request (not counted as hostile). */
const WELL_FORMED = 0.05;

let svc: Served;
const dataDir = tempDir();
const dbFile = join(dataDir, 'fuzz.db');
const secrets = serviceSecrets();
beforeAll(async () => {
  ensureBuilt();
  svc = await serve({
    store: `sqlite:${dbFile}`,
    dataDir,
    args: ['--log-level', 'debug', '--log-requests', 'on'],
  });
}, 120_000);
afterAll(async () => {
  await svc?.stop();
  removeTempDirs();
});

/**
 * Real credentials the hostile requests may carry: secrets (only ever put in
 * secret fields and bearer credentials, never where the service may keep a
 * value as given, like an owner) and public ids (for path parameters).
 */
interface Pool {
  secrets: string[];
  bearers: string[];
  tokenIds: string[];
  ids: string[];
  /** PATs issued by well-formed requests (hostile ones never name their ids). */
  freshPats: string[];
}

/** Keep a pool list bounded: the newest entries win. */
function remember(list: string[], value: unknown, max = 64): void {
  if (typeof value !== 'string' || list.includes(value)) return;
  list.push(value);
  if (list.length > max) list.shift();
}

/** The answer, required to have `status`. */
async function want(status: number, answer: Promise<Answer>): Promise<Answer> {
  const r = await answer;
  expect(r.status, r.text.slice(0, 300)).toBe(status);
  return r;
}

/** Issue real credentials of every family, recorded as secrets and added to the pool. */
async function seedCredentials(url: string, pool: Pool): Promise<void> {
  const keep = (what: string, body: unknown) => {
    secrets.addFrom(what, body);
    const b = body as Record<string, unknown>;
    for (const k of ['value', 'token', 'secret', 'access_token']) remember(pool.secrets, b[k]);
  };
  keep(
    'link',
    (await want(201, api(url, 'POST', '/v1/action-tokens', { owner: 'fz-seed', action: 'login' })))
      .body,
  );
  keep(
    'code',
    (
      await want(
        201,
        api(url, 'POST', '/v1/action-tokens', {
          owner: 'fz-seed',
          action: 'verify-email',
          generate: { kind: 'code' },
        }),
      )
    ).body,
  );
  for (const isAdmin of [false, true]) {
    const pat = await want(
      201,
      api(url, 'POST', '/v1/access-tokens', { owner: 'fz-seed', isAdmin }),
    );
    keep('pat', pat.body);
    remember(pool.bearers, pat.body.token);
    remember(pool.tokenIds, pat.body.record.tokenId);
    const jwt = await want(
      200,
      api(url, 'POST', '/auth/token', {
        grant_type: 'client_credentials',
        client_secret: pat.body.token,
      }),
    );
    keep('jwt', jwt.body);
    remember(pool.bearers, jwt.body.access_token);
  }
  keep(
    'plain challenge',
    (
      await want(
        201,
        api(url, 'POST', '/v1/challenges', {
          action: 'otp',
          id: 'fz-seed',
          secret: { type: 'number' },
        }),
      )
    ).body,
  );
  keep(
    'sealed challenge',
    (await want(201, api(url, 'POST', '/v1/challenges', { action: 'link', id: 'fz-seed' }))).body,
  );
  const session = await want(201, api(url, 'POST', '/v1/sessions', { owner: 'fz-seed' }));
  keep('session', session.body);
  remember(pool.ids, session.body.session.id);
  for (const kind of ['bound', 'transferable']) {
    const t = await want(
      201,
      api(url, 'POST', '/v1/session-tokens', {
        kind,
        session: { token: session.body.token },
        value: { seeded: kind },
      }),
    );
    keep(`${kind} session token`, t.body);
    remember(pool.ids, t.body.info.id);
  }
}

function rssOf(pid: number): Promise<number> {
  return import('node:fs').then(({ readFileSync }) => {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  });
}

const WEIRD = [
  '',
  ' ',
  '\u0000',
  '\u202e\u0007',
  '💥'.repeat(50),
  '../../etc/passwd',
  '%2e%2e%2f',
  '<script>',
  "' OR 1=1 --",
  '$' + '{jndi:ldap://x}',
  '\ud800',
  'a'.repeat(5000),
  'pat_'.padEnd(9000, 'Z'),
  '__proto__',
  'constructor',
];

function generator(rand: () => number, pool: Pool) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const int = (n: number) => Math.floor(rand() * n);
  /** A hostile scalar, or (for secret fields) now and then a real secret. */
  const secretish = (): unknown =>
    rand() < 0.3 && pool.secrets.length > 0 ? pick(pool.secrets) : scalar();
  const scalar = (): unknown =>
    pick([
      () => pick(WEIRD),
      () => int(2 ** 31) * (rand() < 0.5 ? -1 : 1),
      () => rand() * 1e308,
      () => Number.MAX_SAFE_INTEGER + 2,
      () => null,
      () => true,
      () => [],
      () => ({}),
      () => String.fromCharCode(...Array.from({ length: int(40) }, () => int(0xffff))),
    ])();
  const deep = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
  const body = (): { text: string | Buffer; type?: string } =>
    pick([
      () => ({ text: '{"owner":' }),
      () => ({ text: '{,}' }),
      () => ({ text: 'null' }),
      () => ({ text: '[]' }),
      () => ({ text: '"str"' }),
      () => ({ text: deep(5000) }),
      () => ({ text: `{"a":${deep(200)}}` }),
      () => ({ text: `{"owner":"${'x'.repeat(70_000)}"}` }),
      () => ({ text: Buffer.from(Array.from({ length: 200 }, () => int(256))) }),
      () => ({ text: '{"__proto__":{"isAdmin":true},"owner":"x","action":"y"}' }),
      () => ({ text: JSON.stringify({ owner: scalar(), action: scalar(), value: secretish() }) }),
      () => ({
        text: JSON.stringify({
          owner: 'o',
          action: 'a',
          token: secretish(),
          id: scalar(),
          session: { token: secretish() },
          remainingUses: scalar(),
          ttlSeconds: scalar(),
          roles: [scalar(), scalar()],
          grant_type: scalar(),
          client_secret: secretish(),
        }),
      }),
      () => ({
        text: JSON.stringify({
          action: pick(['login', 'verify-email', 'otp', 'link']),
          id: 'fz-seed',
          owner: 'fz-seed',
          value: secretish(),
          token: secretish(),
          drainWhenValid: scalar(),
        }),
      }),
      () => ({
        text: 'grant_type=client_credentials&client_secret=%00',
        type: 'application/x-www-form-urlencoded',
      }),
      () => ({
        text: '{"owner":"o"}',
        type: pick([
          'text/plain',
          'application/xml',
          'multipart/form-data; boundary=x',
          'application/json; charset=utf-7',
        ]),
      }),
    ])();
  return { pick, int, body, scalar };
}

/** Well-formed requests, by route, that issue secrets (so the scan has more to look for). */
function wellFormed(
  g: ReturnType<typeof generator>,
  pool: Pool,
  n: number,
): { method: string; path: string; body: unknown; credential?: string } {
  const owner = `fz-${n}`;
  const exchange = () => ({
    method: 'POST',
    path: '/auth/token',
    body: { grant_type: 'client_credentials', client_secret: g.pick(pool.freshPats) },
    credential: '',
  });
  if (pool.freshPats.length > 0 && g.int(6) === 0) return exchange();
  return g.pick([
    () => ({
      method: 'POST',
      path: '/v1/action-tokens',
      body: {
        owner,
        action: g.pick(['login', 'verify-email']),
        ...(g.int(2) === 0 ? { generate: { kind: 'code' } } : {}),
      },
    }),
    () => ({ method: 'POST', path: '/v1/access-tokens', body: { owner } }),
    () => ({
      method: 'POST',
      path: '/v1/challenges',
      body: { action: 'otp', id: owner, ...(g.int(2) === 0 ? { secret: { type: 'number' } } : {}) },
    }),
    () => ({ method: 'POST', path: '/v1/sessions', body: { owner } }),
    () => ({ method: 'POST', path: '/v1/session-tokens', body: { kind: 'plain', value: 'fz' } }),
  ])();
}

describe('hostile input against every route of the service', () => {
  it(`answers ${TOTAL} generated hostile requests with no 5xx, stays up, memory bounded`, async () => {
    const spec = (await (await fetch(`${svc.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const routes: Array<{ method: string; path: string }> = [];
    for (const [path, ops] of Object.entries(spec.paths))
      for (const method of Object.keys(ops)) routes.push({ method: method.toUpperCase(), path });
    expect(routes.length).toBeGreaterThan(30);
    const pool: Pool = { secrets: [], bearers: [], tokenIds: [], ids: [], freshPats: [] };
    await seedCredentials(svc.url, pool);
    const seeded = secrets.items.length;
    const rand = prng(SEED);
    const g = generator(rand, pool);
    const statuses: Record<string, number> = {};
    const fiveXX: string[] = [];
    const rssBefore = await rssOf(svc.pid);
    let maxRss = rssBefore;
    let sent = 0;

    const fill = (path: string) =>
      path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
        const real = name === 'tokenId' ? pool.tokenIds : pool.ids;
        if (rand() < 0.3 && real.length > 0) return g.pick(real);
        return encodeURIComponent(
          String(g.pick(['x', '..', '%2e%2e', 'a/b', 'é', '\u0000', 'z'.repeat(3000), 'tok_1'])),
        );
      });
    const mangle = (path: string) =>
      g.int(10) < 7
        ? path
        : g.pick([
            () => `${path}/`,
            () => `/${path}`,
            () => path.replace(/^\//, '//'),
            () => `${path}/..%2f..%2fetc%2fpasswd`,
            () => `${path}/%2e%2e/%2e%2e/admin/tokens`,
            () => `${path}?${'q='.repeat(2000)}`,
            () => `${path}${'/a'.repeat(2000)}`,
            () => `${path}%00`,
            () => path.toUpperCase(),
          ])();

    /** Record the secrets a 2xx answer issued (not values the request itself carried). */
    function noteIssued(answer: string, path: string, body: string | Buffer | undefined): void {
      let parsed: unknown;
      try {
        parsed = JSON.parse(answer);
      } catch {
        return;
      }
      const found = new SecretLog();
      found.addFrom('2xx answer', parsed);
      const request = `${path} ${Buffer.isBuffer(body) ? body.toString('utf8') : (body ?? '')}`;
      const carried = (v: string) =>
        request.includes(v) || request.includes(JSON.stringify(v).slice(1, -1));
      for (const { what, value } of found.items) {
        if (carried(value) || /^ERR_/.test(value)) continue;
        secrets.add(what, value);
        remember(pool.secrets, value);
      }
    }

    async function one(): Promise<void> {
      const route = g.pick(routes);
      const method =
        g.int(10) === 0
          ? g.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'POST'])
          : route.method;
      const path = mangle(fill(route.path));
      const headers: Record<string, string> = {};
      const auth = g.int(10);
      if (auth >= 4) headers.authorization = `Bearer ${ADMIN}`;
      else if (auth === 1) headers.authorization = `Bearer ${'A'.repeat(g.int(16_000))}`;
      else if (auth === 2)
        headers.authorization = g.pick([
          'Basic Og==',
          'Bearer',
          'Bearer  x',
          'bearer tsa_ü'.normalize('NFKD').replace(/[^\x20-\x7e]/g, '?'),
          `Bearer ${ADMIN}x`,
        ]);
      else if (auth === 3)
        headers.authorization =
          g.int(2) === 0 && pool.bearers.length > 0
            ? `Bearer ${g.pick(pool.bearers)}`
            : `Bearer eyJhbGciOiJub25lIn0.${Buffer.from('{"sub":"admin"}').toString('base64url')}.`;
      let body: string | Buffer | undefined;
      if (method !== 'GET' && method !== 'HEAD') {
        const b = g.body();
        body = b.text;
        headers['content-type'] = b.type ?? 'application/json';
      }
      try {
        const res = await fetch(`${svc.url}${path}`, { method, headers, body });
        const answer = await res.text();
        if (res.status >= 200 && res.status < 300) noteIssued(answer, path, body);
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status >= 500) fiveXX.push(`${method} ${path.slice(0, 120)} -> ${res.status}`);
      } catch (err) {
        // A client-side refusal (e.g. an invalid URL) is not the service's answer.
        statuses.client_error = (statuses.client_error ?? 0) + 1;
        if (!svc.alive()) throw err;
      }
      sent++;
      if (sent % 1000 === 0) maxRss = Math.max(maxRss, await rssOf(svc.pid));
    }

    /** Well-formed requests sent, and how many were answered 2xx. */
    let wellFormedSent = 0;
    let wellFormedOk = 0;
    const wellFormedStatuses: Record<string, number> = {};
    async function oneWellFormed(): Promise<void> {
      const req = wellFormed(g, pool, wellFormedSent++);
      const r = await api(svc.url, req.method, req.path, req.body, req.credential ?? ADMIN);
      if (r.status >= 500) fiveXX.push(`well-formed ${req.method} ${req.path} -> ${r.status}`);
      const answer = `${req.method} ${req.path} ${r.status}`;
      wellFormedStatuses[answer] = (wellFormedStatuses[answer] ?? 0) + 1;
      if (r.status >= 200 && r.status < 300) {
        wellFormedOk++;
        noteIssued(r.text, req.path, JSON.stringify(req.body));
        if (req.path === '/v1/access-tokens') remember(pool.freshPats, r.body?.token, 16);
      }
    }

    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < TOTAL) {
          next++;
          if (rand() < WELL_FORMED) await oneWellFormed();
          await one();
        }
      }),
    );

    // Header injection and malformed HTTP over a raw socket.
    const raw = [
      `POST /v1/action-tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\nX-Evil: a\rb\r\nContent-Length: 2\r\n\r\n{}`,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-For: \u0000\r\n\r\n`,
      'GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n',
      `GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      'POST /auth/token HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      `GET /healthz HTTP/1.1\r\nHost: x\r\n${'X-A: b\r\n'.repeat(3000)}\r\n`,
      'GARBAGE\r\n\r\n',
      `POST /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\n\r\n{`,
    ];
    for (const req of raw) {
      const status = await new Promise<string>((resolve) => {
        const s = connect({ host: '127.0.0.1', port: Number(new URL(svc.url).port) });
        let buf = '';
        s.setTimeout(3000, () => {
          s.destroy();
          resolve('timeout');
        });
        s.on('data', (d) => {
          buf += d.toString('latin1');
          if (buf.includes('\r\n')) s.destroy();
        });
        s.on('close', () => resolve(/^HTTP\/1\.1 (\d{3})/.exec(buf)?.[1] ?? 'closed'));
        s.on('error', () => resolve('reset'));
        s.write(req);
      });
      statuses[`raw:${status}`] = (statuses[`raw:${status}`] ?? 0) + 1;
      if (/^5/.test(status)) fiveXX.push(`raw ${JSON.stringify(req.slice(0, 60))} -> ${status}`);
      sent++;
    }

    expect(svc.alive()).toBe(true);
    const health = await fetch(`${svc.url}/healthz`);
    expect(health.status).toBe(200);
    maxRss = Math.max(maxRss, await rssOf(svc.pid));
    const growthMiB = (maxRss - rssBefore) / 2 ** 20;
    recordFigures('fuzz', {
      seed: SEED,
      requests: sent,
      routes: routes.length,
      statuses,
      fiveXX: fiveXX.length,
      fiveXXSamples: fiveXX.slice(0, 20),
      rssBeforeMiB: Math.round(rssBefore / 2 ** 20),
      rssMaxMiB: Math.round(maxRss / 2 ** 20),
      rssGrowthMiB: Math.round(growthMiB),
    });
    expect(fiveXX).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(TOTAL);
    expect(growthMiB).toBeLessThan(300);

    // The fuzz does not wreck the service for real users: every well-formed request
    // succeeds, except exchanges refused by the token endpoint's per-IP window (429).
    const refusedWellFormed = Object.entries(wellFormedStatuses).filter(
      ([k]) => !/ 2\d\d$/.test(k) && k !== 'POST /auth/token 429',
    );
    expect(refusedWellFormed).toEqual([]);
    expect(wellFormedOk).toBeGreaterThan(0);

    // No leaks: stop the service so every log line is flushed, then scan every line it
    // wrote, every row of its SQLite store and every file of its data directory.
    await svc.stop();
    const log = svc.output();
    const lines = log.split('\n').filter((l) => l.trim() !== '');
    const requestLines = lines.filter((l) => l.includes('"msg":"request"')).length;
    const dump = dumpSqlite(dbFile);
    expect(dump.length).toBeGreaterThan(0);
    const leaks = scanAndRecord('fuzz', { file: 'fuzz.test.ts', backend: 'sqlite' }, secrets, [
      { where: 'service log', text: log },
      { where: 'sqlite store rows', text: dump },
      ...filesUnder(dataDir, 'data dir'),
    ]);
    recordFigures('fuzz', {
      wellFormed: wellFormedSent,
      wellFormedOk,
      wellFormedStatuses,
      secretsSeeded: seeded,
      secretsIssued: secrets.items.length,
      logLines: lines.length,
      requestLogLines: requestLines,
    });
    // The request log is on: every fetched request the service answered left a line (431s
    // excepted: Node's HTTP parser refuses oversized headers before the service sees them;
    // the raw-socket requests may or may not reach it, so they are not counted).
    const fetched = Object.entries(statuses)
      .filter(([k]) => !k.startsWith('raw:') && k !== 'client_error' && k !== '431')
      .reduce((n, [, v]) => n + v, 0);
    expect(requestLines).toBeGreaterThanOrEqual(fetched + wellFormedSent);
    expect(secrets.items.length).toBeGreaterThan(seeded);
    expect(leaks.hitDetails).toEqual([]);
  }, 240_000);
});
