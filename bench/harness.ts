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
}

/** Ops per second of `op` over `durationMs`. */
export async function measureOpsPerSecond(op: Op, options: MeasureOptions): Promise<number> {
  const concurrency = options.concurrency ?? 1;
  const deadline = performance.now() + options.durationMs;
  let done = 0;
  const start = performance.now();
  const worker = async () => {
    // Batches of 16 keep the clock reads off the hot path.
    while (performance.now() < deadline) {
      for (let i = 0; i < 16; i++) {
        const r = op();
        if (r !== undefined && typeof (r as Promise<unknown>).then === 'function') await r;
      }
      done += 16;
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
}

/** Measure a row: `runs` interleaved runs of subject and baseline. */
export async function runRow(row: Row, runs: number, durationMs: number): Promise<RowResult> {
  await row.setup?.();
  try {
    const opts = { durationMs, concurrency: row.concurrency };
    // Warm-up (JIT, connections, caches).
    await measureOpsPerSecond(row.subject.op, { ...opts, durationMs: Math.min(300, durationMs) });
    await measureOpsPerSecond(row.baseline.op, { ...opts, durationMs: Math.min(300, durationMs) });
    const s: number[] = [];
    const b: number[] = [];
    const ratios: number[] = [];
    for (let i = 0; i < runs; i++) {
      const first = i % 2 === 0;
      const x = first ? await measureOpsPerSecond(row.subject.op, opts) : 0;
      const y = await measureOpsPerSecond(row.baseline.op, opts);
      const z = first ? x : await measureOpsPerSecond(row.subject.op, opts);
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

/** Format ops/s compactly (e.g. `123k`). */
export function formatOps(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(n >= 100 ? 0 : 1);
}
