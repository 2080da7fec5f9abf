/**
 * Row 5: the service's `POST /v1/access-tokens/verify` (memory store) against
 * a bare JSON route of the same framework (Hono on @hono/node-server), each in
 * its own child process on port 0, loaded with autocannon (50 connections)
 * in alternating rounds. Reports req/s and p99 latency of both. The service
 * runs with its defaults except a per-credential rate limit the load never reaches.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { type CustomRow, median, type RowResult, stats } from '../harness.js';

interface CannonResult {
  requests: { average: number };
  latency: { p99: number };
  non2xx: number;
  errors: number;
}
type Cannon = (opts: Record<string, unknown>) => Promise<CannonResult>;

interface Server {
  readonly opts: Record<string, unknown>;
  readonly child: ChildProcess;
}

/** Start a server child; resolve once it prints READY. */
async function startServer(mode: 'bare' | 'service'): Promise<Server> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(import.meta.dirname, 'verify-server.ts'),
      mode,
      // The per-credential limiter stays on the path, with a limit the load never reaches.
      ...(mode === 'service' ? ['--rate-limit-identity', '999999999/60'] : []),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [url, token] = await new Promise<string[]>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /READY (\S+) (\S+) (\S+)/.exec(out);
      if (m) resolve([m[1], m[2]] as string[]);
    });
    child.on('exit', (code) => reject(new Error(`${mode} server exited ${code}`)));
  });
  return {
    child,
    opts: {
      url: `${url}/v1/access-tokens/verify`,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ token }),
      connections: 50,
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

/** Row 5. */
export function httpRows(): CustomRow[] {
  return [
    {
      id: 'service-verify',
      title: 'Service verify endpoint vs bare Hono route (HTTP, 50 conns)',
      async run(runs, durationMs): Promise<RowResult[]> {
        // autocannon ships no types.
        const autocannon = (await import('autocannon' as string)).default as Cannon;
        const seconds = Math.max(1, Math.round((durationMs * 2.5) / 1000));
        let bare: Server | undefined;
        let svc: Server | undefined;
        try {
          bare = await startServer('bare');
          svc = await startServer('service');
          const fire = async (s: Server, duration: number) => {
            const r = await autocannon({ ...s.opts, duration });
            if (r.non2xx > 0 || r.errors > 0) {
              throw new Error(`autocannon: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
            }
            return r;
          };
          await fire(bare, 1); // warm-up (JIT, connections)
          await fire(svc, 1);
          const s: CannonResult[] = [];
          const b: CannonResult[] = [];
          for (let i = 0; i < runs; i++) {
            if (i % 2 === 0) {
              s.push(await fire(svc, seconds));
              b.push(await fire(bare, seconds));
            } else {
              b.push(await fire(bare, seconds));
              s.push(await fire(svc, seconds));
            }
          }
          const sP99 = median(s.map((r) => r.latency.p99));
          const bP99 = median(b.map((r) => r.latency.p99));
          return [
            {
              id: 'service-verify',
              title: this.title,
              subjectName: 'Tessera service (Hono)',
              baselineName: 'bare Hono JSON route',
              subject: stats(s.map((r) => r.requests.average)),
              baseline: stats(b.map((r) => r.requests.average)),
              ratio: median(s.map((r, i) => r.requests.average / b[i]!.requests.average)),
              target: 0.6,
              unit: 'req/s',
              p99: { subjectMs: sP99, baselineMs: bP99, ratio: sP99 / bP99, maxRatio: 2 },
            },
          ];
        } finally {
          await stop(bare);
          await stop(svc);
        }
      },
    },
  ];
}
