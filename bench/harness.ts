/**
 * Benchmark harness: measures a subject and its baseline side by side in one
 * run (interleaved, so drift on a noisy machine hits both), reports the median
 * of several runs with min and max, and the ratio subject/baseline.
 */

/** A measured operation: called repeatedly; may be sync or async. */
export type Op = () => unknown;

/** Options of {@link measureOpsPerSecond}. */
export interface MeasureOptions {
  /** How long one run lasts, ms. */
  readonly durationMs: number;
  /** Operations kept in flight at once (1: sequential). */
  readonly concurrency?: number;
  /** Operations between clock reads (default 16; 1 for slow operations such as scrypt). */
  readonly batch?: number;
}

/** Ops per second of `op` over `durationMs`. */
export async function measureOpsPerSecond(op: Op, options: MeasureOptions): Promise<number> {
  const concurrency = options.concurrency ?? 1;
  const batch = options.batch ?? 16;
  const deadline = performance.now() + options.durationMs;
  let done = 0;
  const start = performance.now();
  const worker = async () => {
    // Batches keep the clock reads off the hot path.
    while (performance.now() < deadline) {
      for (let i = 0; i < batch; i++) {
        const r = op();
        if (r !== undefined && typeof (r as Promise<unknown>).then === 'function') await r;
      }
      done += batch;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (done / (performance.now() - start)) * 1000;
}

/** Median, min and max of a series. */
export interface Stats {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

/** Summarize a series of measurements. */
export function stats(values: readonly number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median =
    s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return { median, min: s[0] as number, max: s[s.length - 1] as number, runs: s.length };
}

/** One row of the report: a subject against a baseline. */
export interface Row {
  /** Short id, e.g. `use-sqlite`. */
  readonly id: string;
  /** What the row measures. */
  readonly title: string;
  readonly subject: { readonly name: string; readonly op: Op };
  readonly baseline: { readonly name: string; readonly op: Op };
  /** Minimum acceptable ratio subject/baseline (from the targets). */
  readonly target?: number;
  /** In-flight operations (default 1). */
  readonly concurrency?: number;
  /** Operations per clock read for each side (default 16). */
  readonly batch?: { readonly subject?: number; readonly baseline?: number };
  /** Set up before measuring (and tear down after). */
  readonly setup?: () => Promise<void>;
  readonly teardown?: () => Promise<void>;
}

/** A measured row. */
export interface RowResult {
  readonly id: string;
  readonly title: string;
  readonly subjectName: string;
  readonly baselineName: string;
  readonly subject: Stats;
  readonly baseline: Stats;
  /** Median of the per-run ratios. */
  readonly ratio: number;
  readonly target?: number;
  readonly note?: string;
  /** Unit of the rates (default `ops/s`). */
  readonly unit?: string;
  /** Latency percentiles, for rows measured over HTTP (ms, median over runs). */
  readonly p99?: {
    readonly subjectMs: number;
    readonly baselineMs: number;
    /** subject p99 / baseline p99. */
    readonly ratio: number;
    /** Largest acceptable p99 ratio. */
    readonly maxRatio?: number;
  };
}

/** A row measured its own way (e.g. over HTTP with autocannon). */
export interface CustomRow {
  readonly id: string;
  readonly title: string;
  run(runs: number, durationMs: number): Promise<RowResult[]>;
}

/** A row that could not run here (its backend is not reachable). */
export interface SkippedRow {
  readonly id: string;
  readonly title: string;
  readonly skipped: string;
}

/** Anything a row module contributes. */
export type Entry = Row | CustomRow | SkippedRow;

/** Whether this run is CI, where a missing backend fails instead of skipping. */
export const isCI = process.env.CI === 'true';

/**
 * The rows for a backend that is not reachable: in CI an error, elsewhere a
 * skipped row per id (printed loudly by the runner).
 */
export function unavailable(
  backend: string,
  rows: ReadonlyArray<{ id: string; title: string }>,
): SkippedRow[] {
  if (isCI)
    throw new Error(`${backend} is not reachable, and CI=true: a benchmark backend is missing`);
  return rows.map((r) => ({ ...r, skipped: `${backend} not reachable` }));
}

/** Median of the series. */
export function median(values: readonly number[]): number {
  return stats(values).median;
}

/** Measure a row: `runs` interleaved runs of subject and baseline. */
export async function runRow(row: Row, runs: number, durationMs: number): Promise<RowResult> {
  await row.setup?.();
  try {
    const sOpts = { durationMs, concurrency: row.concurrency, batch: row.batch?.subject };
    const bOpts = { durationMs, concurrency: row.concurrency, batch: row.batch?.baseline };
    const warm = Math.min(300, durationMs);
    // Warm-up (JIT, connections, caches).
    await measureOpsPerSecond(row.subject.op, { ...sOpts, durationMs: warm });
    await measureOpsPerSecond(row.baseline.op, { ...bOpts, durationMs: warm });
    const s: number[] = [];
    const b: number[] = [];
    const ratios: number[] = [];
    for (let i = 0; i < runs; i++) {
      // Alternate which side goes first, so a drifting machine load hits both.
      const first = i % 2 === 0;
      const x = first ? await measureOpsPerSecond(row.subject.op, sOpts) : 0;
      const y = await measureOpsPerSecond(row.baseline.op, bOpts);
      const z = first ? x : await measureOpsPerSecond(row.subject.op, sOpts);
      s.push(z);
      b.push(y);
      ratios.push(z / y);
    }
    return {
      id: row.id,
      title: row.title,
      subjectName: row.subject.name,
      baselineName: row.baseline.name,
      subject: stats(s),
      baseline: stats(b),
      ratio: stats(ratios).median,
      target: row.target,
    };
  } finally {
    await row.teardown?.();
  }
}

/** Format a ratio: two decimals below 100, else a grouped integer (`12,345x`). */
export function formatRatio(r: number): string {
  return r >= 100 ? `${Math.round(r).toLocaleString('en-US')}x` : `${r.toFixed(2)}x`;
}

/** Format ops/s compactly (e.g. `123k`). */
export function formatOps(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(n >= 100 ? 0 : 1);
}
