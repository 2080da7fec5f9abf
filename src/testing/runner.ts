/**
 * The injected test runner and helpers shared by the conformance suites.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { Store } from '../stores/contract.js';

/** The test-runner functions a suite needs (Vitest, Jest, Mocha and node:test all fit). */
export interface TestRunner {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => Promise<void> | void, timeoutMs?: number): void;
}

/** Options shared by every conformance suite. */
export interface SuiteOptions {
  /** Name shown in the report (e.g. `sqlite`). */
  readonly name: string;
  /** The runner's `describe` and `it`. */
  readonly runner: TestRunner;
  /**
   * Make a fresh, migrated, empty store (or one whose data cannot collide:
   * e.g. a unique key prefix). Called once per test; the suite closes it.
   */
  readonly createStore: () => Promise<Store> | Store;
}

/** A random lower-case suffix for collection names and keys. */
export function randomSuffix(bytes = 6): string {
  return randomBytes(bytes).toString('hex');
}

/** Run `fn` with a fresh store and always close it. */
export async function withStore<T>(
  options: SuiteOptions,
  fn: (store: Store) => Promise<T>,
): Promise<T> {
  const store = await options.createStore();
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Assert that `promise` rejects with an error carrying `code`. */
export async function rejectsWithCode(
  promise: Promise<unknown> | (() => unknown),
  code: string,
): Promise<void> {
  let settled = false;
  try {
    await (typeof promise === 'function' ? promise() : promise);
    settled = true;
  } catch (err) {
    const got = (err as { code?: unknown }).code;
    if (got !== code) {
      throw new Error(`expected an error with code ${code}, got ${String(got)}: ${String(err)}`);
    }
  }
  if (settled) throw new Error(`expected an error with code ${code}, but it resolved`);
}
