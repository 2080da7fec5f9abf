/**
 * The CI time budget of the reliability suite, stated in `docs/reliability.md`
 * and compared with the measured durations of each run. Durations are wall
 * times on a 2-core machine that may be shared; a file over its budget is
 * reported, not failed (timings are noisy: performance targets live in the
 * benchmarks, never in timed tests).
 */

/** The whole `npm test` (build, typecheck, lint, every test file) on 2 cores, minutes. */
export const NPM_TEST_MINUTES = 30;

/** The reliability run as `npm run reliability:report` starts it (all files below), seconds. */
export const SUITE_SECONDS = 300;

/** Each file's budget, seconds (its tests' wall time within the run, as Vitest times it). */
export const FILE_SECONDS: Readonly<Record<string, number>> = {
  'test/reliability/fuzz.test.ts': 120,
  'test/reliability/kill9.test.ts': 60,
  'test/reliability/model.test.ts': 60,
  'test/reliability/service-stores.test.ts': 90,
  'test/reliability/store-restart.test.ts': 90,
  'test/jwt/attacks.test.ts': 30,
};

/** One file's measured duration against its budget. */
export interface Timing {
  readonly file: string;
  readonly tests: number;
  readonly seconds: number | null;
  readonly budget: number | undefined;
  readonly within: boolean | null;
}

/** Compare measured durations (ms, by file path relative to the root) with the budget. */
export function timings(measured: ReadonlyMap<string, { ms: number; tests: number }>): Timing[] {
  const files = [...new Set([...Object.keys(FILE_SECONDS), ...measured.keys()])].sort();
  return files.map((file) => {
    const m = measured.get(file);
    const budget = FILE_SECONDS[file];
    const seconds = m === undefined ? null : Math.round(m.ms / 100) / 10;
    return {
      file,
      tests: m?.tests ?? 0,
      seconds,
      budget,
      within: seconds === null || budget === undefined ? null : seconds <= budget,
    };
  });
}
