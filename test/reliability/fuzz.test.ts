/**
 * Hostile input over real HTTP: at least 10,000 generated malformed or hostile
 * requests (bad JSON, huge and deeply nested bodies, wrong types, unicode and
 * control characters, oversized tokens, path tricks) against every route the
 * service lists in /openapi.json, plus raw-socket header injection. Seeded,
 * so a failure reproduces (`TESSERA_FUZZ_SEED`). Zero 5xx, the process alive,
 * memory bounded. Afterwards the service log and its data directory hold none
 * of the secrets it was configured with (admin credential, server secret) nor
 * any secret a 2xx answer issued (plain, hex or base64). Its `memory:` store
 * lives inside the service process and cannot be dumped from outside.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordFigures, scale } from './support/figures.js';
import { filesUnder, SecretLog, scanAndRecord } from './support/leaks.js';
import {
  ADMIN,
  ensureBuilt,
  removeTempDirs,
  type Served,
  serve,
  serviceSecrets,
  tempDir,
} from './support/serve.js';

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

let svc: Served;
const dataDir = tempDir();
const secrets = serviceSecrets();
beforeAll(async () => {
  ensureBuilt();
  svc = await serve({ store: 'memory:', dataDir, args: ['--log-level', 'error'] });
}, 120_000);
afterAll(async () => {
  await svc?.stop();
  removeTempDirs();
});

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

function generator(rand: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const int = (n: number) => Math.floor(rand() * n);
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
      () => ({ text: JSON.stringify({ owner: scalar(), action: scalar(), value: scalar() }) }),
      () => ({
        text: JSON.stringify({
          owner: 'o',
          action: 'a',
          token: scalar(),
          id: scalar(),
          session: { token: scalar() },
          remainingUses: scalar(),
          ttlSeconds: scalar(),
          roles: [scalar(), scalar()],
          grant_type: scalar(),
          client_secret: scalar(),
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

describe('hostile input against every route of the service', () => {
  it(`answers ${TOTAL} generated hostile requests with no 5xx, stays up, memory bounded`, async () => {
    const spec = (await (await fetch(`${svc.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const routes: Array<{ method: string; path: string }> = [];
    for (const [path, ops] of Object.entries(spec.paths))
      for (const method of Object.keys(ops)) routes.push({ method: method.toUpperCase(), path });
    expect(routes.length).toBeGreaterThan(30);
    const rand = prng(SEED);
    const g = generator(rand);
    const statuses: Record<string, number> = {};
    const fiveXX: string[] = [];
    const rssBefore = await rssOf(svc.pid);
    let maxRss = rssBefore;
    let sent = 0;

    const fill = (path: string) =>
      path.replace(/\{[^}]+\}/g, () =>
        encodeURIComponent(
          String(g.pick(['x', '..', '%2e%2e', 'a/b', 'é', '\u0000', 'z'.repeat(3000), 'tok_1'])),
        ),
      );
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
      for (const { what, value } of found.items)
        if (!carried(value) && !/^ERR_/.test(value)) secrets.add(what, value);
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
        headers.authorization = `Bearer eyJhbGciOiJub25lIn0.${Buffer.from('{"sub":"admin"}').toString('base64url')}.`;
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

    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < TOTAL) {
          next++;
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

    // No leaks in the log or the data directory (the memory: store cannot be dumped).
    const leaks = scanAndRecord('fuzz', { file: 'fuzz.test.ts', backend: 'memory' }, secrets, [
      { where: 'service log', text: svc.output() },
      ...filesUnder(dataDir, 'data dir'),
    ]);
    expect(leaks.hitDetails).toEqual([]);
  }, 180_000);
});
