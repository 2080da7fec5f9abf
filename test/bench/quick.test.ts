/**
 * Smoke test of the benchmarks: `bench/run.ts --quick` runs every row briefly
 * and prints one line per row (a result, or a loud SKIPPED line when the row's
 * backend is not reachable outside CI). No thresholds: ratios are not checked.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROWS = [
  'pat-vs-scrypt',
  'pat-vs-ceiling',
  'jwt-mint',
  'jwt-verify',
  'challenges-seq',
  'challenges-100',
  'use-redis',
  'pat-verify-redis',
  'pat-verify-postgres',
  'sessions-http',
  'sessions-http-embedded',
  'sessions-inproc',
  'use-memory',
  'use-sqlite',
  'use-postgres',
  'use-dynamodb',
  'service-verify',
  'memory',
];

function runQuick(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const root = join(import.meta.dirname, '..', '..');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', 'bench/run.ts', '--quick'],
      { cwd: root, timeout: 240_000, maxBuffer: 10 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
  });
}

describe('npm run bench -- --quick', () => {
  it('runs every row to a result, or skips it loudly when its backend is absent outside CI', async () => {
    const { code, stdout, stderr } = await runQuick();
    expect(code, stderr).toBe(0);
    const lines = `${stdout}\n${stderr}`.split('\n');
    for (const id of ROWS) {
      const line = lines.find((l) => l.startsWith(`${id} `));
      expect(line, `no line for row ${id}`).toBeDefined();
      const measured = /(ratio \S+x|bytes per live token)/.test(line!);
      const skipped = /SKIPPED: .+ not reachable/.test(line!);
      expect(measured || (skipped && process.env.CI !== 'true'), line).toBe(true);
    }
  }, 270_000);
});
