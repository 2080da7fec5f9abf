/**
 * Helpers of the sessions conformance suite: a fresh store, fake clock and
 * sessions API per test (in random collections, so global listings are
 * exact), and a store wrapper that holds one call back to play a slow request.
 * @module
 */
import { createFakeClock, type FakeClock } from '../core/clock.js';
import { createSessions, type Sessions } from '../sessions/create-sessions.js';
import type { SessionsOptions } from '../sessions/types.js';
import type { Store } from '../stores/contract.js';
import { randomSuffix, withStore } from './runner.js';
import type { StoreSuiteOptions } from './store-suite.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** What each sessions test gets. */
export interface SessionsTestCtx {
  readonly store: Store;
  readonly clock: FakeClock;
  readonly sessions: Sessions;
  /** Make another API over the same store and collections (other options). */
  readonly make: (extra?: Partial<SessionsOptions>) => Sessions;
  /** A fresh owner name. */
  readonly owner: string;
  readonly collections: { readonly sessions: string; readonly tokens: string };
}

/** Build the `run(fn, extra)` wrapper of a suite. */
export function makeRun(options: StoreSuiteOptions) {
  return (fn: (ctx: SessionsTestCtx) => Promise<void>, extra: Partial<SessionsOptions> = {}) =>
    () =>
      withStore(options, async (store) => {
        const clock = createFakeClock();
        const suffix = randomSuffix(4);
        const collections = { sessions: `ss${suffix}`, tokens: `st${suffix}` };
        const make = (more: Partial<SessionsOptions> = {}) =>
          createSessions({ store, clock, collections, ...extra, ...more });
        await fn({
          store,
          clock,
          sessions: make(),
          make,
          owner: `user-${randomSuffix(4)}@example.com`,
          collections,
        });
      });
}

/** A held call: `reached` resolves when it is waiting; `release()` lets it go on. */
export interface Hold {
  readonly reached: Promise<void>;
  release(): void;
}

/**
 * Wrap a store so the next call of `method` whose arguments match `match`
 * waits until released: a slow request, without sleeping.
 */
export function holdable(store: Store): {
  store: Store;
  holdNext(method: 'update' | 'put' | 'delete', match?: (args: unknown[]) => boolean): Hold;
} {
  let armed:
    | {
        method: string;
        match: (args: unknown[]) => boolean;
        reached: () => void;
        gate: Promise<void>;
      }
    | undefined;
  const wrapped = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const a = armed;
        if (a !== undefined && a.method === prop && a.match(args)) {
          armed = undefined;
          a.reached();
          await a.gate;
        }
        return (value as (...x: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    store: wrapped,
    holdNext(method, match = () => true) {
      let reached!: () => void;
      let release!: () => void;
      const reachedP = new Promise<void>((r) => {
        reached = r;
      });
      const gate = new Promise<void>((r) => {
        release = r;
      });
      armed = { method, match, reached, gate };
      return { reached: reachedP, release };
    },
  };
}

/** Collect every item of a paged listing. */
export async function all<T>(
  list: (o: { cursor: string | null; limit: number }) => Promise<{
    items: readonly T[];
    cursor: string | null;
  }>,
  limit = 2,
): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await list({ cursor, limit });
    out.push(...page.items);
    cursor = page.cursor;
    if (++pages > 10_000) throw new Error('listing does not end');
  } while (cursor !== null);
  return out;
}
