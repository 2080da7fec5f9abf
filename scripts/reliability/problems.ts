/**
 * What makes a reliability report incomplete or failed: a test file or a
 * backend that produced no figures, fewer fuzzed requests than promised, a
 * leak, a figure that says something did not hold (lost writes, double
 * spends, wrong racer counts, 5xx answers, a rejected JWT attack case that
 * passed), or a failed test. The report lists them and exits non-zero.
 */

/** One figures file, as the tests recorded it. */
export type Fig = Record<string, unknown> & { backend?: string };

/** The least number of hostile requests the fuzz must send. */
export const MIN_FUZZED = 10_000;

/** Backends each figure family must cover (figure file name prefix → backends). */
export const EXPECTED: Readonly<Record<string, readonly string[]>> = {
  'http-race-': ['dynamodb', 'postgres', 'redis', 'redis-cluster', 'sqlite'],
  'leaks-': ['dynamodb', 'postgres', 'redis', 'redis-cluster', 'sqlite'],
  'model-': ['dynamodb', 'memory', 'postgres', 'redis', 'redis-cluster', 'sqlite'],
  'kill9-': ['postgres', 'sqlite'],
  'store-restart-': ['postgres', 'redis'],
};

/** The Vitest JSON report, as far as the checks read it. */
export interface VitestReport {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  testResults: Array<{
    name: string;
    startTime?: number;
    endTime?: number;
    assertionResults: Array<{ fullName: string; title: string; status: string }>;
  }>;
}

/** Inputs of {@link findProblems}. */
export interface ProblemInputs {
  readonly figs: ReadonlyMap<string, Fig>;
  readonly vitest: VitestReport | null;
  /** Exit code of the test run (undefined with `--no-run` and no record). */
  readonly exitCode: number | undefined;
  /** Test files the run must have reported, relative to the root. */
  readonly files: readonly string[];
  /** The repository root (to shorten Vitest's absolute file names). */
  readonly root: string;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);

/** Every problem of a run, as sentences. */
export function findProblems(input: ProblemInputs): string[] {
  const { figs, vitest } = input;
  const problems: string[] = [];
  const add = (p: string) => problems.push(p);

  if (input.exitCode !== undefined && input.exitCode !== 0)
    add(`the test run exited with code ${input.exitCode}`);
  if (vitest === null) add('no Vitest report: the durations and test outcomes are unknown');
  else {
    for (const t of vitest.testResults)
      for (const a of t.assertionResults)
        if (a.status === 'failed')
          add(`failed test: ${t.name.replace(`${input.root}/`, '')}: ${a.fullName}`);
    const seen = new Set(vitest.testResults.map((t) => t.name.replace(`${input.root}/`, '')));
    for (const f of input.files) if (!seen.has(f)) add(`${f} did not run`);
    const skipped = vitest.testResults.flatMap((t) =>
      t.assertionResults.filter((a) => a.status !== 'passed' && a.status !== 'failed'),
    );
    for (const a of skipped) add(`test not run (${a.status}): ${a.fullName}`);
  }

  for (const [prefix, backends] of Object.entries(EXPECTED)) {
    for (const b of backends) {
      const f = figs.get(`${prefix}${b}`);
      if (f === undefined) add(`no figures from ${prefix}${b} (backend ${b} produced none)`);
    }
  }

  for (const [name, f] of figs) {
    if (name.startsWith('http-race-')) {
      const rounds = (f.rounds ?? []) as Array<{ racers: number; uses: number; successes: number }>;
      if (rounds.length === 0) add(`${name}: no racer rounds`);
      for (const r of rounds)
        if (r.successes !== Math.min(r.racers, r.uses))
          add(`${name}: ${r.racers} racers on ${r.uses} uses got ${r.successes} successes`);
    }
    if (name.startsWith('kill9-') || name.startsWith('store-restart-')) {
      if (f.survived !== true) add(`${name}: the fault was not survived`);
      if (num(f.lost) !== 0) add(`${name}: ${f.lost} acknowledged writes lost`);
      if (num(f.overUsed) !== 0) add(`${name}: ${f.overUsed} tokens used beyond their uses`);
      if (!(num(f.acknowledgedCreates) > 0)) add(`${name}: no acknowledged creates`);
    }
    if (name.startsWith('model-')) {
      const ops = (f.ops ?? {}) as Record<string, number>;
      for (const fam of ['actionTokens', 'accessTokens', 'challenges', 'sessions'])
        if (!((ops[fam] ?? 0) > 0)) add(`${name}: no ${fam} sequences ran`);
      const commands = (f.commands ?? {}) as Record<string, Record<string, number>>;
      for (const [fam, counts] of Object.entries(commands))
        for (const [label, n] of Object.entries(counts))
          if (!(n > 0)) add(`${name}: ${fam} command ${label} never ran`);
    }
    const leaks = (f.leaks ?? (name.startsWith('leaks-') ? f : undefined)) as
      | { hits?: number; secrets?: number; secretsIssued?: number }
      | undefined;
    if (leaks !== undefined) {
      if (num(leaks.hits) !== 0) add(`${name}: ${leaks.hits} leaks found`);
      if (!(num(leaks.secrets ?? leaks.secretsIssued) > 0))
        add(`${name}: the leak scan had no secret to look for`);
    }
  }

  const fuzz = figs.get('fuzz');
  if (fuzz === undefined) add('no fuzz figures');
  else {
    if (!(num(fuzz.requests) >= MIN_FUZZED))
      add(`fuzz: ${fuzz.requests} hostile requests, fewer than ${MIN_FUZZED}`);
    if (num(fuzz.fiveXX) !== 0) add(`fuzz: ${fuzz.fiveXX} answers were 5xx`);
    if (fuzz.leaks === undefined) add('fuzz: no leak scan recorded');
  }

  const jwt = vitest?.testResults.find((t) => t.name.endsWith('test/jwt/attacks.test.ts'));
  if (vitest !== null && (jwt === undefined || jwt.assertionResults.length === 0))
    add('JWT attack cases did not run');
  return problems;
}
