/**
 * The background sweeper loop every store with a `sweep` primitive shares.
 * Expiry is decided by the core against its clock; the sweeper only reclaims
 * space afterwards.
 * @module
 */
import { type Clock, systemClock } from '../../core/clock.js';
import type { Store } from '../contract.js';

/** Options of a store's `startSweeper`. */
export interface SweeperOptions {
  /** Time between runs, ms (default 60000). A run starts only after the previous one ended. */
  readonly intervalMs?: number;
  /** Source of `now` for each run (default the system clock). */
  readonly clock?: Clock;
  /** Records deleted per `sweep()` call (default 1000); a run repeats calls while they come back full. */
  readonly limit?: number;
  /** Keep records this long past their expiry, ms (default 0). */
  readonly graceMs?: number;
  /** Most `sweep()` calls in one run (default 100), so one run stays bounded. */
  readonly maxCallsPerRun?: number;
  /** Called with any error of a run (default: `process.emitWarning`). The sweeper keeps going. */
  readonly onError?: (err: unknown) => void;
}

function positiveInt(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer`);
  }
  return value;
}

/**
 * Run `sweep` every `intervalMs` until stopped. The timer is `unref()`d so it
 * never keeps the process alive.
 *
 * @param name - the store's name in warnings
 * @returns a function that stops the sweeper (idempotent)
 * @throws RangeError for a non-positive `intervalMs`, `limit` or `maxCallsPerRun`, or a negative `graceMs`
 * @example
 * ```ts
 * const stop = startSweeperLoop(store.sweep, { intervalMs: 30_000 });
 * process.on('SIGTERM', stop);
 * ```
 */
export function startSweeperLoop(
  sweep: Store['sweep'],
  options: SweeperOptions = {},
  name = 'store',
): () => void {
  const intervalMs = positiveInt(options.intervalMs ?? 60_000, 'intervalMs');
  const limit = positiveInt(options.limit ?? 1000, 'limit');
  const maxCalls = positiveInt(options.maxCallsPerRun ?? 100, 'maxCallsPerRun');
  const graceMs = options.graceMs ?? 0;
  if (!Number.isSafeInteger(graceMs) || graceMs < 0) {
    throw new RangeError('graceMs must be a non-negative integer');
  }
  const clock = options.clock ?? systemClock;
  const onError =
    options.onError ??
    ((err: unknown) => {
      process.emitWarning(
        `tessera ${name} sweeper: ${err instanceof Error ? err.message : String(err)}`,
      );
    });
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const runOnce = async (): Promise<void> => {
    for (let calls = 0; calls < maxCalls && !stopped; calls++) {
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
            // An error handler that throws must not kill the sweeper.
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
