/**
 * Background maintenance, shared by the service's interval and `tessera
 * sweep`: release the tokens of sessions that timed out (`sessions.collect`:
 * bound tokens deleted, transferable ones listed as unassigned), then delete
 * expired records (`store.sweep`). Collection runs first, while the ended
 * sessions are still there to be found. Validity never waits for either.
 * @module
 */
import type { Sessions } from '../sessions/index.js';
import type { Store } from '../stores/contract.js';

/** What one pass did. */
export interface MaintenanceResult {
  /** Ended sessions whose tokens were released. */
  readonly sessions: number;
  /** Tokens released (deleted or unassigned). */
  readonly tokens: number;
  /** Expired records deleted. */
  readonly swept: number;
}

/**
 * Run one maintenance pass.
 *
 * @param options - the store; the sessions API on it; `now` (ms since epoch) for the sweep;
 *   `limit`: most sessions collected and most records swept (default 1000)
 * @throws whatever the store throws (typed store errors)
 * @example `const { swept, tokens } = await runMaintenance({ store, sessions, now: Date.now() });`
 */
export async function runMaintenance(options: {
  store: Store;
  sessions: Pick<Sessions, 'collect'>;
  now: number;
  limit?: number;
  graceMs?: number;
}): Promise<MaintenanceResult> {
  const limit = options.limit ?? 1000;
  const collected = await options.sessions.collect({ limit: Math.min(limit, 10_000) });
  const swept = await options.store.sweep(options.now, {
    limit,
    ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
  });
  return { sessions: collected.sessions, tokens: collected.tokens, swept };
}
