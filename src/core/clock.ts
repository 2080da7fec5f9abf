/**
 * Injectable clock. Every expiry decision in Tessera reads time from a
 * {@link Clock}, so tests can move time without sleeping.
 * @module
 */

/** A source of the current time in milliseconds since the Unix epoch. */
export interface Clock {
  /** Current time, ms since epoch. */
  now(): number;
}

/** The real clock (`Date.now`). */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

/** A clock that only moves when told to. */
export interface FakeClock extends Clock {
  /** Move time forward by `ms` milliseconds (negative moves back). */
  advance(ms: number): void;
  /** Set the time to `ms` since epoch. */
  set(ms: number): void;
}

/**
 * Create a manually driven clock for tests.
 *
 * @param startMs - initial time, ms since epoch (default 2026-01-01T00:00:00Z)
 * @throws RangeError when `startMs` is not a finite number
 * @example
 * ```ts
 * const clock = createFakeClock();
 * clock.advance(10 * 60_000); // ten minutes later
 * ```
 */
export function createFakeClock(startMs = Date.UTC(2026, 0, 1)): FakeClock {
  if (!Number.isFinite(startMs)) throw new RangeError('startMs must be a finite number');
  let t = startMs;
  return {
    now: () => t,
    advance(ms: number) {
      if (!Number.isFinite(ms)) throw new RangeError('ms must be a finite number');
      t += ms;
    },
    set(ms: number) {
      if (!Number.isFinite(ms)) throw new RangeError('ms must be a finite number');
      t = ms;
    },
  };
}
