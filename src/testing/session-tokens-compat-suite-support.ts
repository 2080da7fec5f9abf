/**
 * Helpers of the session_tokens facade suite: a fresh store, fake clock and
 * `TokenTables` per test, in random collections (so global listings are exact
 * on shared backends).
 * @module
 */
import { createHash } from 'node:crypto';
import { createSeedDb, type DB, TokenTables } from '../compat/session-tokens/index.js';
import type { TokenTablesOptions } from '../compat/session-tokens/options.js';
import { createFakeClock, type FakeClock } from '../core/clock.js';
import type { Store } from '../stores/contract.js';
import { randomSuffix, withStore } from './runner.js';
import type { StoreSuiteOptions } from './store-suite.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export const INVALID = 'ERR_TESSERA_INVALID_INPUT';

/** The facade's id of a token: SHA-256, unpadded base64url (no keyring). */
export const sha = (s: string): string => createHash('sha256').update(s).digest('base64url');

/** What each facade test gets. */
export interface TablesTestCtx {
  readonly store: Store;
  readonly clock: FakeClock;
  /** A facade over the test's store, collections and clock (plus the run's options). */
  readonly tables: TokenTables;
  /** Another facade over the same store, collections and clock, with other options. */
  readonly make: (more?: TokenTablesOptions) => TokenTables;
  /** The seed DB adapter over the same store, collections and clock. */
  readonly seedDb: (more?: TokenTablesOptions) => DB;
  /** The test's collections. */
  readonly collections: { readonly sessions: string; readonly tokens: string };
}

/** Build the `run(fn, options)` wrapper of the suite. */
export function makeTablesRun(options: StoreSuiteOptions) {
  return (fn: (ctx: TablesTestCtx) => Promise<void>, extra: TokenTablesOptions = {}) =>
    () =>
      withStore(options, async (store) => {
        const clock = createFakeClock();
        const suffix = randomSuffix(4);
        const collections = { sessions: `cs${suffix}`, tokens: `ct${suffix}` };
        const base: TokenTablesOptions = { clock, collections, ...extra };
        const make = (more: TokenTablesOptions = {}) =>
          new TokenTables(store, undefined, { ...base, ...more });
        const seedDb = (more: TokenTablesOptions = {}) => createSeedDb(store, { ...base, ...more });
        await fn({ store, clock, tables: make(), make, seedDb, collections });
      });
}

/** Log `owner` in with a fresh session token; returns the token and the session's hash. */
export async function login(
  tables: TokenTables,
  owner: string,
): Promise<{ session: string; hash: string }> {
  const session = tables.create_token('s_');
  const hash = await tables.add_session(session, owner);
  return { session, hash };
}

/** Sorted copy, for comparing listings whose order is not specified. */
export function sorted(xs: readonly string[]): string[] {
  return [...xs].sort();
}
