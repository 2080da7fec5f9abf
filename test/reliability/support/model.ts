/**
 * Model-based property tests: for each credential family, fast-check draws
 * random sequences of commands (and clock moves, on a fake clock), runs them
 * against the real module on a store (in collections named at random, so no
 * sequence sees another's records) and against a small reference model, and
 * requires the same observable result at every step. Hand-written sequences
 * run first on every backend, so every command and variant does its work at
 * least once however few random sequences a slow backend gets; a command that
 * never ran fails the test. After every sequence, every collection the module
 * touched is listed from the store and scanned for the values, tokens and
 * secrets the sequence issued (plain, hex, base64): zero hits. Wire it per
 * backend with {@link defineModelSuite}; the families live in `model/`.
 */
import fc from 'fast-check';
import type { Store } from '../../../src/stores/contract.js';
import { recordFigures } from './figures.js';
import { type LeakHit, SecretLog, scanForLeaks } from './leaks.js';
import { accessTokensFamily } from './model/access-tokens.js';
import { actionTokensFamily } from './model/action-tokens.js';
import { challengesFamily } from './model/challenges.js';
import { type Command, dumpCollection, type ModelFamily, recordingStore } from './model/harness.js';
import { sessionsFamily } from './model/sessions.js';

/** Options of {@link defineModelSuite}. */
export interface ModelSuiteOptions {
  readonly name: string;
  readonly runner: {
    describe(name: string, fn: () => void): void;
    it(name: string, fn: () => Promise<void>, timeoutMs?: number): void;
  };
  /**
   * A migrated store whose data cannot collide with another call's (fresh or
   * prefixed); called once per family test, closed after it. Each sequence
   * works in collections of its own within it.
   */
  readonly createStore: () => Promise<Store> | Store;
  /** Sequences per family (default 25). */
  readonly numRuns?: number;
  /** Longest sequence (default 25). */
  readonly maxOps?: number;
  /** Per-test timeout, ms (default 60000). */
  readonly timeoutMs?: number;
}

/** Define the model-based tests of every family on one backend. */
export function defineModelSuite(options: ModelSuiteOptions): void {
  const { describe, it } = options.runner;
  const numRuns = options.numRuns ?? 25;
  const maxOps = options.maxOps ?? 25;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const ops: Record<string, number> = {};
  const count = (family: string, n: number) => {
    ops[family] = (ops[family] ?? 0) + n;
  };
  /** Commands that ran, by family and label. */
  const commands: Record<string, Record<string, number>> = {};
  /** Time each family's test took, ms. */
  const durations: Record<string, number> = {};
  const leaks = {
    secrets: 0,
    forms: 0,
    places: 0,
    bytes: 0,
    hits: 0,
    hitDetails: [] as LeakHit[],
    collections: new Set<string>(),
    ms: 0,
  };
  const record = () =>
    recordFigures(`model-${options.name}`, {
      backend: options.name,
      numRuns,
      maxOps,
      ops,
      commands,
      durationsMs: durations,
      leaks: {
        file: 'model.test.ts',
        backend: options.name,
        secrets: leaks.secrets,
        forms: leaks.forms,
        places: leaks.places,
        bytes: leaks.bytes,
        hits: leaks.hits,
        hitDetails: leaks.hitDetails.slice(0, 20),
        dumpAndScanMs: Math.round(leaks.ms),
        collections: [
          ...new Set([...leaks.collections].map((c) => c.replace(/[0-9a-f]{12}$/, '*'))),
        ],
      },
    });

  /**
   * Run `fn` on `raw` (every sequence works in collections of its own, named at
   * random, so sequences never see each other's records); then list every
   * collection it touched and scan the records for every secret `fn` put in
   * `issued` (throws on a hit).
   */
  async function scanned(
    raw: Store,
    fn: (store: Store, issued: SecretLog) => Promise<void>,
  ): Promise<void> {
    const used = new Set<string>();
    const issued = new SecretLog();
    await fn(recordingStore(raw, used), issued);
    const t0 = performance.now();
    const places: Array<{ where: string; text: string }> = [];
    for (const c of used)
      places.push({ where: `collection ${c}`, text: await dumpCollection(raw, c) });
    const result = scanForLeaks(issued, places);
    leaks.secrets += result.checked;
    leaks.forms += result.forms;
    leaks.places += places.length;
    leaks.bytes += places.reduce((n, p) => n + p.text.length, 0);
    leaks.hits += result.hits.length;
    leaks.hitDetails.push(...result.hits);
    for (const c of used) leaks.collections.add(c);
    leaks.ms += performance.now() - t0;
    if (result.hits.length > 0)
      throw new Error(`leak: ${JSON.stringify(result.hits)} in ${options.name} store records`);
  }

  /** One family's test: the examples, then `numRuns` random sequences; every label must run. */
  function defineFamily<Op extends Command>(family: ModelFamily<Op>): void {
    const counts: Record<string, number> = {};
    commands[family.key] = counts;
    it(
      family.title,
      async () => {
        const t0 = performance.now();
        // One store per family test, opened once (no schema work per sequence).
        const raw = await options.createStore();
        try {
          await fc.assert(
            fc.asyncProperty(
              fc.array(family.op, { maxLength: maxOps, size: 'max' }),
              async (seq) => {
                count(family.key, seq.length);
                await scanned(raw, (store, issued) =>
                  family.run(store, issued, seq, (op) => {
                    for (const label of family.labels(op)) counts[label] = (counts[label] ?? 0) + 1;
                  }),
                );
              },
            ),
            { numRuns, examples: family.examples.map((e) => [e]) },
          );
        } finally {
          await raw.close();
        }
        durations[family.key] = Math.round(performance.now() - t0);
        record();
        const missing = family.commands.filter((c) => (counts[c] ?? 0) === 0);
        if (missing.length > 0)
          throw new Error(`${family.key} on ${options.name}: never ran ${missing.join(', ')}`);
      },
      timeoutMs,
    );
  }

  describe(`model-based properties: ${options.name}`, () => {
    defineFamily(actionTokensFamily);
    defineFamily(accessTokensFamily);
    defineFamily(challengesFamily);
    defineFamily(sessionsFamily);
  });
}
