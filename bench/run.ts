/**
 * `npm run bench`: every row, side by side, written to BENCHMARKS.md and
 * bench/ratios.svg. `--quick` runs each row briefly (a smoke test, no
 * thresholds) and writes nothing unless `--write` is given.
 */
import { formatOps, type Row, type RowResult, runRow } from './harness.js';
import { type Figure, writeReport } from './report.js';
import { actionTokenRows, memoryBytesPerToken } from './rows/action-tokens.js';

const quick = process.argv.includes('--quick');
const write = !quick || process.argv.includes('--write');
const runs = quick ? 1 : 5;
const durationMs = quick ? 150 : 2000;

const rows: Row[] = [...(await actionTokenRows())];
const results: RowResult[] = [];
for (const row of rows) {
  const r = await runRow(row, runs, durationMs);
  results.push(r);
  console.log(
    `${r.id.padEnd(16)} ${formatOps(r.subject.median).padStart(7)} vs ${formatOps(r.baseline.median).padStart(7)} ops/s  ratio ${r.ratio.toFixed(2)}x${r.target === undefined ? '' : ` (target >= ${r.target}x)`}`,
  );
}
const count = quick ? 20_000 : 1_000_000;
const bytes = await memoryBytesPerToken(count);
console.log(`memory           ${bytes.toFixed(0)} bytes per live token (${count} tokens)`);
const figures: Figure[] = [
  {
    id: 'memory-bytes',
    title: `Memory store: heap bytes per live action token (${count.toLocaleString('en')} tokens)`,
    value: bytes,
    unit: 'bytes',
    target: { value: 300, lowerIsBetter: true },
  },
];
if (write) {
  writeReport(results, figures, quick ? 'quick mode' : `${runs} runs of ${durationMs} ms per row`);
  console.log('wrote BENCHMARKS.md and bench/ratios.svg');
}
