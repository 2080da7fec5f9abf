/**
 * The verify cache's link to other processes: a subscription to the store's
 * events on the collection's change channel, through which every instance
 * drops a token another instance changed.
 *
 * Correctness first: the cache answers only while the subscription delivers
 * (`live`). Until it is set up, after a failed attempt, while the store says
 * delivery may have stopped (`onStatus(false)`: a dropped Redis subscriber or
 * PostgreSQL listening connection) and after `close()`, every verify reads
 * the store. A failed subscription is reported to `onError` and retried with
 * jittered exponential backoff (250 ms doubling to 30 s). The cache is
 * cleared when delivery stops (reads in flight are not cached either) and
 * again when it resumes (`onStatus(true)`, or a new subscription), so nothing
 * read while a change could be missed is ever answered from it. `resync()`
 * clears it too, for an application that learns of a gap some other way.
 * @module
 */
import { randomInt } from 'node:crypto';
import type { StoreEvents } from '../stores/contract.js';
import type { VerifyCache } from './cache.js';

/** First retry delay after a failed subscription, ms. */
export const SUBSCRIBE_RETRY_BASE_MS = 250;
/** Longest retry delay, ms. */
export const SUBSCRIBE_RETRY_MAX_MS = 30_000;

/** Options of {@link createInvalidationFeed}. */
export interface InvalidationFeedOptions {
  readonly events: StoreEvents;
  readonly channel: string;
  readonly cache: VerifyCache;
  /** Called for each message (a token id is checked by the caller). */
  readonly onMessage: (message: string) => void;
  /** Receives each failed subscription attempt (never throws back into the feed). */
  readonly onError: (err: unknown) => void;
  /** First retry delay, ms (default {@link SUBSCRIBE_RETRY_BASE_MS}). */
  readonly retryBaseMs?: number;
  /** Longest retry delay, ms (default {@link SUBSCRIBE_RETRY_MAX_MS}). */
  readonly retryMaxMs?: number;
}

/** The subscription state (see the module notes). */
export interface InvalidationFeed {
  /** Whether the cache may answer: subscribed, delivering, and not closed. */
  readonly live: boolean;
  /** Resolves once the feed is live (or closed); during a delivery gap, once it is over. */
  ready(): Promise<void>;
  /**
   * Messages may have been missed: clear the cache (and make reads in flight
   * uncacheable). Not needed for gaps the store reports through `onStatus`.
   */
  resync(): void;
  /** Unsubscribe, stop retrying and clear the cache; the feed stays not live. */
  close(): Promise<void>;
}

/**
 * Subscribe (at once) and keep the feed's state.
 * @example `const feed = createInvalidationFeed({ events: store.events, channel: 'pat:changed', cache, onMessage, onError });`
 */
export function createInvalidationFeed(options: InvalidationFeedOptions): InvalidationFeed {
  const { events, channel, cache, onMessage } = options;
  const baseMs = options.retryBaseMs ?? SUBSCRIBE_RETRY_BASE_MS;
  const maxMs = options.retryMaxMs ?? SUBSCRIBE_RETRY_MAX_MS;
  /** Subscribed, delivering and not closed: the one flag verify reads. */
  let live = false;
  let closed = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => Promise<void>) | undefined;
  let waiters: Array<() => void> = [];

  const report = (err: unknown) => {
    try {
      options.onError(err);
    } catch {
      // A failing error handler must not stop the retries.
    }
  };
  const wake = () => {
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve();
  };
  /** Start or stop answering from the cache; it is emptied either way. */
  const setLive = (next: boolean) => {
    // Whatever was read before this point may have missed a change.
    cache.clear();
    live = next && !closed;
    if (live) wake();
  };

  const attempt = (): void => {
    timer = undefined;
    // This attempt's delivery status: the store may report it before `subscribe` resolves.
    let delivering = true;
    let current = false;
    const onStatus = (next: boolean) => {
      delivering = next;
      if (current && !closed) setLive(next);
    };
    events.subscribe(channel, onMessage, { onStatus }).then(
      (off) => {
        if (closed) {
          off().catch(report);
          return;
        }
        unsubscribe = off;
        failures = 0;
        current = true;
        setLive(delivering);
      },
      (err: unknown) => {
        if (closed) return;
        report(err);
        const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(failures, 30));
        failures++;
        // Full jitter over the upper half, so instances that failed together spread out.
        timer = setTimeout(attempt, randomInt(Math.ceil(ceiling / 2), ceiling + 1));
        timer.unref();
      },
    );
  };
  attempt();

  return {
    get live() {
      return live;
    },
    ready() {
      if (live || closed) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    resync() {
      cache.clear();
    },
    async close() {
      closed = true;
      live = false;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      cache.clear();
      wake();
      const off = unsubscribe;
      unsubscribe = undefined;
      await off?.();
    },
  };
}
