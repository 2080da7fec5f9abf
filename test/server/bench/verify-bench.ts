/**
 * Requests per second of POST /v1/access-tokens/verify against a bare Hono
 * JSON route, over loopback with autocannon (5 s each, 50 connections).
 * Usage: npx tsx test/server/bench/verify-bench.ts [serve flags for the service...]
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

interface CannonResult {
  requests: { average: number };
  non2xx: number;
}
// autocannon ships no types.
const autocannon = (await import('autocannon' as string)).default as (
  opts: Record<string, unknown>,
) => Promise<CannonResult>;

/** Start a server; resolve to its URL, the token to verify, the caller's credential and a stop function. */
async function startServer(mode: string, extra: string[]) {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_PROF && mode === 'service'
        ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof2']
        : []),
      '--import',
      'tsx',
      join(import.meta.dirname, 'verify-server.ts'),
      mode,
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [url, token, credential] = await new Promise<string[]>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /READY (\S+) (\S+) (\S+)/.exec(out);
      if (m) resolve([m[1], m[2], m[3]] as string[]);
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  const opts = {
    url: `${url}/v1/access-tokens/verify`,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${credential}` },
    body: JSON.stringify({ token }),
    connections: 50,
  };
  return { opts, stop: () => child.kill('SIGTERM') };
}

const extra = process.argv.slice(2);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const bare = await startServer('bare', []);
const svc = await startServer('service', extra);
await autocannon({ ...bare.opts, duration: 1 }); // warm-up
await autocannon({ ...svc.opts, duration: 1 });
// Alternate, and keep each side's best round: other load on the machine only lowers a round.
let bestBare = 0;
let bestSvc = 0;
for (let i = 0; i < rounds; i++) {
  const b = await autocannon({ ...bare.opts, duration: seconds });
  const s = await autocannon({ ...svc.opts, duration: seconds });
  if (s.non2xx > 0) console.warn(`service: ${s.non2xx} non-2xx answers`);
  bestBare = Math.max(bestBare, b.requests.average);
  bestSvc = Math.max(bestSvc, s.requests.average);
}
bare.stop();
svc.stop();
console.log(`bare Hono JSON route: ${Math.round(bestBare)} req/s`);
console.log(`tessera verify (${extra.join(' ') || 'defaults'}): ${Math.round(bestSvc)} req/s`);
console.log(
  `ratio: ${(bestSvc / bestBare).toFixed(2)} (best of ${rounds} alternating ${seconds} s rounds)`,
);
