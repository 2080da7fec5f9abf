/**
 * Shared pieces of the challenges conformance suite.
 * @module
 */
import type { Challenges, ChallengesOptions } from '../challenges/index.js';
import type { FakeClock } from '../core/clock.js';
import type { Store } from '../stores/contract.js';
import type { TestRunner } from './runner.js';

/** A Tessera sealed token under the test keyring. */
export const SEALED_RE = /^v1\.k[12]\.[A-Za-z0-9_-]+$/;

/** A lowercase UUID v4. */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** What each test receives. */
export interface ChallengesCtx {
  store: Store;
  clock: FakeClock;
  challenges: Challenges;
  /** A fresh id per test (an email address). */
  id: string;
}

/** The runner plus the wrapper that gives a test a fresh store, clock and module. */
export interface ChallengesKit extends TestRunner {
  run(
    fn: (ctx: ChallengesCtx) => Promise<void>,
    extra?: Partial<ChallengesOptions>,
  ): () => Promise<void>;
}

/** Every record of the default collection, as JSON (to look for leaked secrets). */
export async function dumpChallenges(store: Store): Promise<string> {
  const page = await store.list('challenge', { limit: 1000 });
  return JSON.stringify(page.records);
}
