/**
 * Racers in separate OS processes: each worker process opens its own store
 * through a module the backend's test names, waits for a shared start signal,
 * and runs its racers at once. Used by the conformance suites to show that
 * atomicity holds across processes, not only inside one event loop.
 * @module
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Json } from '../stores/contract.js';

/**
 * How a worker process opens the store under test: `module` (an absolute path
 * or file URL) exports a function named `exportName` (default `createStore`)
 * that takes `arg` and returns a migrated `Store` over the same data as the
 * test's own store (the same SQLite file, Redis prefix, schema, table...).
 */
export interface WorkerStoreSpec {
  readonly module: string;
  readonly exportName?: string;
  readonly arg: Json;
}

/** What each racer does, by name (see `race-worker.ts`). */
export type RaceTask =
  | {
      readonly kind: 'decrement';
      readonly collection: string;
      readonly key: string;
      readonly now: number;
    }
  | {
      readonly kind: 'insert';
      readonly collection: string;
      readonly key: string;
      readonly now: number;
    }
  | {
      /** Call `module[exportName](store, arg, racerIndex)`; truthy result counts as a success. */
      readonly kind: 'custom';
      readonly module: string;
      readonly exportName: string;
      readonly arg: Json;
    };

/** Totals over every racer of every process. */
export interface RaceResult {
  readonly successes: number;
  readonly failures: number;
  readonly errors: readonly string[];
}

function workerEntry(): { file: string; execArgv: string[] } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    return {
      file: fileURLToPath(new URL('./race-worker.ts', here)),
      execArgv: ['--import', 'tsx'],
    };
  }
  return { file: fileURLToPath(new URL('./race-worker.js', here)), execArgv: [] };
}

/**
 * Run `racersPerProcess` racers in each of `processes` OS processes, all
 * released by one start signal, and add up their outcomes.
 *
 * @param spec - how workers open the store
 * @param task - what each racer does
 * @param processes - OS processes (default 2)
 * @param racersPerProcess - concurrent racers in each (default 10)
 * @param timeoutMs - kill the workers after this long (default 60000)
 */
export async function raceAcrossProcesses(
  spec: WorkerStoreSpec,
  task: RaceTask,
  processes = 2,
  racersPerProcess = 10,
  timeoutMs = 60_000,
): Promise<RaceResult> {
  const { file, execArgv } = workerEntry();
  const payload = JSON.stringify({ spec, task, racers: racersPerProcess });
  const children = Array.from({ length: processes }, () =>
    spawn(process.execPath, [...execArgv, file, payload], { stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  const timer = setTimeout(() => {
    for (const c of children) c.kill('SIGKILL');
  }, timeoutMs);
  try {
    const outputs = children.map(
      (child) =>
        new Promise<string>((resolve, reject) => {
          let out = '';
          let err = '';
          child.stdout.setEncoding('utf8').on('data', (d: string) => {
            out += d;
          });
          child.stderr.setEncoding('utf8').on('data', (d: string) => {
            err += d;
          });
          child.on('error', reject);
          child.on('close', (codeNum) => {
            if (codeNum === 0) resolve(out);
            else reject(new Error(`race worker exited with ${codeNum}: ${err.slice(0, 2000)}`));
          });
        }),
    );
    const ready = children.map(
      (child) =>
        new Promise<void>((resolve, reject) => {
          let buf = '';
          const onData = (d: Buffer | string) => {
            buf += d.toString();
            if (buf.includes('ready\n')) {
              child.stdout.off('data', onData);
              resolve();
            }
          };
          child.stdout.on('data', onData);
          child.on('close', () => reject(new Error('race worker closed before it was ready')));
        }),
    );
    await Promise.all(ready);
    for (const c of children) c.stdin.end('go\n');
    const results = await Promise.all(outputs);
    let successes = 0;
    let failures = 0;
    const errors: string[] = [];
    for (const out of results) {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line === undefined)
        throw new Error(`race worker printed no result: ${out.slice(0, 500)}`);
      const r = JSON.parse(line) as RaceResult;
      successes += r.successes;
      failures += r.failures;
      errors.push(...r.errors);
    }
    return { successes, failures, errors };
  } finally {
    clearTimeout(timer);
  }
}
