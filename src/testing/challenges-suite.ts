/**
 * The challenges conformance suite: the whole module (ms-token semantics, seed
 * 003) on top of a store, on a fake clock, including races in one process and
 * across OS processes.
 * @module
 */
import assert from 'node:assert/strict';
import { createChallenges } from '../challenges/challenges.js';
import { createFakeClock } from '../core/clock.js';
import type { Store } from '../stores/contract.js';
import { testKeyring } from './action-tokens-suite.js';
import { defineCreateCases } from './challenges-suite-create.js';
import { defineImportCases } from './challenges-suite-import.js';
import { defineLifecycleCases } from './challenges-suite-lifecycle.js';
import type { ChallengesKit } from './challenges-suite-support.js';
import { defineVerifyCases } from './challenges-suite-verify.js';
import { raceAcrossProcesses } from './race.js';
import { randomSuffix, withStore } from './runner.js';
import type { StoreSuiteOptions } from './store-suite.js';

const fileUrl = import.meta.url;

/**
 * Define the challenges tests with the injected runner and store factory.
 * With `multiProcess`, racers also verify one challenge from several OS processes.
 *
 * @example
 * ```ts
 * defineChallengesSuite({ name: 'memory', runner: { describe, it }, createStore: () => createMemoryStore() });
 * ```
 */
export function defineChallengesSuite(options: StoreSuiteOptions): void {
  const { describe, it } = options.runner;
  const kit: ChallengesKit = {
    describe,
    it,
    run:
      (fn, extra = {}) =>
      () =>
        withStore(options, async (store) => {
          const clock = createFakeClock();
          const challenges = createChallenges({ store, keyring: testKeyring(), clock, ...extra });
          await fn({ store, clock, challenges, id: `user-${randomSuffix(4)}@example.com` });
        }),
  };
  const { run } = kit;

  describe(`challenges: ${options.name}`, () => {
    defineCreateCases(kit);
    defineVerifyCases(kit);
    defineLifecycleCases(kit);
    defineImportCases(kit);

    describe('concurrency', () => {
      it(
        'gives exactly one success to K parallel erasing verifies of a sealed token',
        run(async ({ challenges, id }) => {
          const { secret } = await challenges.create({ action: 'a', id });
          const results = await Promise.all(
            Array.from({ length: 20 }, () => challenges.tryVerify(secret ?? '')),
          );
          assert.equal(results.filter((r) => r.valid).length, 1);
          assert.ok(results.every((r) => r.valid || r.reason === 'not_found'));
        }),
      );

      it(
        'gives exactly one success to K parallel erasing verifies of a plain code',
        run(async ({ challenges, id }) => {
          const { secret } = await challenges.create({
            action: 'a',
            id,
            secret: { type: 'number', length: 8 },
          });
          const results = await Promise.all(
            Array.from({ length: 20 }, () =>
              challenges.tryVerify({ action: 'a', id, token: secret ?? '' }),
            ),
          );
          assert.equal(results.filter((r) => r.valid).length, 1);
          // Attempts in flight hold the budget until they settle, so some racers see it spent.
          assert.ok(
            results.every((r) => r.valid || ['not_found', 'used_up', 'locked'].includes(r.reason)),
          );
        }),
      );

      it(
        'reports exactly one first verification among parallel non-erasing verifies',
        run(async ({ challenges, id }) => {
          const { secret } = await challenges.create({ action: 'a', id });
          const results = await Promise.all(
            Array.from({ length: 10 }, () => challenges.verify(secret ?? '', { erase: false })),
          );
          assert.equal(results.filter((r) => r.isFirstVerification).length, 1);
          assert.equal(new Set(results.map((r) => r.verifiedAt)).size, 1);
        }),
      );

      if (options.multiProcess) {
        const mp = options.multiProcess;
        it('gives exactly one success to verify racers in several OS processes', async () => {
          const { store, spec } = await mp.createSharedStore();
          try {
            const clock = createFakeClock();
            const challenges = createChallenges({ store, keyring: testKeyring(), clock });
            const { secret } = await challenges.create({
              action: 'race',
              id: `racer-${randomSuffix(4)}`,
              ttl: 3600,
            });
            const processes = mp.processes ?? 3;
            const result = await raceAcrossProcesses(
              spec,
              {
                kind: 'custom',
                module: fileUrl,
                exportName: 'verifyChallengeOnce',
                arg: { token: secret ?? '', now: clock.now() },
              },
              processes,
              8,
            );
            assert.deepEqual(result.errors, []);
            assert.equal(result.successes, 1);
            assert.equal(result.failures, processes * 8 - 1);
          } finally {
            await store.close();
          }
        }, 120_000);
      }
    });
  });
}

/**
 * Racer body for the multi-process case (runs in a worker process): one
 * erasing `verify` of the sealed token the test created, on its frozen clock.
 */
export async function verifyChallengeOnce(
  store: Store,
  arg: { token: string; now: number },
): Promise<boolean> {
  const challenges = createChallenges({
    store,
    keyring: testKeyring(),
    clock: createFakeClock(arg.now),
  });
  const r = await challenges.tryVerify(arg.token);
  if (!r.valid && r.reason !== 'not_found') throw new Error(`unexpected outcome ${r.reason}`);
  return r.valid;
}
