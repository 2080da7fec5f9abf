/**
 * Background sweeping of the Redis store. Redis collects expired records by
 * itself (PXAT); the sweeper removes their list and index entries as well and
 * bounds how long an expired record lingers.
 * @module
 */
import { systemClock } from '../../core/clock.js';
import type { Store } from '../contract.js';
import type { RedisSweeperOptions } from './options.js';

function positiveInt(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer`);
  }
  return value;
}

/**
 * Run `sweep` every `intervalMs` until stopped; a run repeats calls while they
 * come back full (at most 100 calls). The timer is `unref()`d.
 *
 * @returns a function that stops the sweeper (idempotent)
 * @throws RangeError for a non-positive `intervalMs` or `limit`, or a negative `graceMs`
 * @example `const stop = startSweeperLoop(store.sweep, { intervalMs: 30_000 });`
 */
export function startSweeperLoop(
  sweep: Store['sweep'],
  options: RedisSweeperOptions = {},
): () => void {
  const intervalMs = positiveInt(options.intervalMs ?? 60_000, 'intervalMs');
  const limit = positiveInt(options.limit ?? 1000, 'limit');
  const graceMs = options.graceMs ?? 0;
  if (!Number.isSafeInteger(graceMs) || graceMs < 0) {
    throw new RangeError('graceMs must be a non-negative integer');
  }
  const clock = options.clock ?? systemClock;
  const onError = options.onError ?? (() => {});
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const runOnce = async (): Promise<void> => {
    for (let calls = 0; calls < 100 && !stopped; calls++) {
      const n = await sweep(clock.now(), { limit, graceMs });
      if (n < limit) return;
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      runOnce()
        .catch((err: unknown) => {
          if (stopped) return;
          try {
            onError(err);
          } catch {
            // An error handler that throws must not stop the sweeper.
          }
        })
        .finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
  };
}
