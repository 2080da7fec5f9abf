/**
 * `npm run bench`: every row, side by side, written to BENCHMARKS.md and
 * bench/ratios.svg (and bench/ratios.png when `rsvg-convert` is installed).
 * `--quick` runs each row briefly (a smoke test, no thresholds) and writes
 * nothing unless `--write` is given. `--only a,b` runs the rows whose id
 * starts with one of the given prefixes. `--runs N` and `--duration MS` override
 * the number and length of runs, and `--no-write` never writes the report (use
 * it when measuring a few rows: a partial run must not replace BENCHMARKS.md).
 *
 * Rows that need Redis or PostgreSQL print a loud SKIPPED line when the
 * backend is not reachable, or fail when `CI=true`.
 */
import { loadavg } from 'node:os';
import {
  type CustomRow,
  type Entry,
  formatOps,
  formatRatio,
  type Row,
  type RowResult,
  runRow,
  type SkippedRow,
} from './harness.js';
import { type Figure, writeReport } from './report.js';
import { actionTokenRows, memoryBytesPerToken } from './rows/action-tokens.js';
import { httpRows } from './rows/http.js';
import { jwtRows } from './rows/jwt.js';
import { patVerifyRows } from './rows/pat-verify.js';
import { redisRows } from './rows/redis.js';
import { sessionRows } from './rows/sessions.js';
import { dynamoRows, postgresRows } from './rows/sql-dynamo.js';

const quick = process.argv.includes('--quick');
const write = !process.argv.includes('--no-write') && (!quick || process.argv.includes('--write'));
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg > 0 ? (process.argv[onlyArg + 1] ?? '').split(',') : undefined;

/** The positive integer after `flag`, or `fallback` when the flag is absent. */
function intFlag(flag: string, fallback: number): number {
  const i = process.argv.indexOf(flag);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${flag} takes a positive integer`);
  return n;
}
const runs = intFlag('--runs', quick ? 1 : 5);
const durationMs = intFlag('--duration', quick ? 150 : 2000);
const selected = (id: string) => only === undefined || only.some((p) => id.startsWith(p));

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const loadBefore = load();

const entries: Entry[] = [
  ...(await patVerifyRows()),
  ...(await jwtRows()),
  ...(await redisRows()),
  ...(await sessionRows()),
  ...(await actionTokenRows()),
  ...(await postgresRows()),
  ...(await dynamoRows()),
  ...httpRows(),
];

function print(r: RowResult): void {
  const unit = r.unit ?? 'ops/s';
  const p99 = r.p99
    ? `  p99 ${r.p99.subjectMs.toFixed(1)} vs ${r.p99.baselineMs.toFixed(1)} ms (${r.p99.ratio.toFixed(2)}x${r.p99.maxRatio === undefined ? '' : `, max ${r.p99.maxRatio}x`})`
    : '';
  console.log(
    `${r.id.padEnd(16)} ${formatOps(r.subject.median).padStart(7)} vs ${formatOps(r.baseline.median).padStart(7)} ${unit}  ratio ${formatRatio(r.ratio)}${r.target === undefined ? '' : ` (target >= ${r.target}x)`}${p99}`,
  );
}

const results: RowResult[] = [];
const skipped: SkippedRow[] = [];
for (const e of entries) {
  if (!selected(e.id)) continue;
  if ('skipped' in e) {
    skipped.push(e);
    console.warn(`${e.id.padEnd(16)} SKIPPED: ${e.skipped} (CI=true makes this an error)`);
    continue;
  }
  const got =
    'run' in e
      ? await (e as CustomRow).run(runs, durationMs)
      : [await runRow(e as Row, runs, durationMs)];
  for (const r of got) {
    results.push(r);
    print(r);
  }
}

const figures: Figure[] = [];
if (selected('memory')) {
  const count = quick ? 20_000 : 1_000_000;
  const bytes = await memoryBytesPerToken(count);
  console.log(`${'memory'.padEnd(16)} ${bytes.toFixed(0)} bytes per live token (${count} tokens)`);
  figures.push({
    id: 'memory-bytes',
    title: `Memory store: heap bytes per live action token (${count.toLocaleString('en')} tokens)`,
    value: bytes,
    unit: 'bytes',
    target: { value: 300, lowerIsBetter: true },
  });
}
if (write) {
  const mode = quick
    ? 'quick mode'
    : `${runs} runs of ${durationMs} ms per row (HTTP: ${runs} runs of ${Math.round((durationMs * 2.5) / 1000)} s)`;
  writeReport(results, figures, skipped, {
    mode,
    load: `load average (1, 5, 15 min) ${loadBefore} at the start, ${load()} at the end`,
  });
  console.log('wrote BENCHMARKS.md and bench/ratios.svg');
}
