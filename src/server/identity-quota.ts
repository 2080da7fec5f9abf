/**
 * The per-identity rate limit, taken from the store in leases. An
 * authenticated request would otherwise cost one store write besides its own
 * work (on Redis or PostgreSQL, a round trip). Instead an instance takes
 * `leaseSize` hits of the identity's window at once, in one atomic step that
 * succeeds only while that many are left, and answers the next `leaseSize - 1`
 * requests of that identity from memory.
 *
 * What holds, across every instance on a shared store:
 * - never more than `limit` requests allowed per window (a lease is counted in
 *   the store before any of its hits is granted);
 * - near the end of a budget, hits are taken one by one, so one instance gets
 *   the whole limit; across N instances, hits leased and not used when the
 *   window ends are lost: at most N·(leaseSize − 1) of the limit;
 * - a refusal is remembered until the window ends (a fixed window's count only
 *   grows), so a client over its limit costs no store write either.
 *
 * `RateLimit-Remaining` counts what this instance knows: the store's count at
 * its last lease, less what it has granted since.
 * @module
 */
import type { Clock } from '../core/clock.js';
import { hitThrottle, type ThrottleOutcome, type ThrottleRule } from '../core/throttle.js';
import type { RecordRef, Store } from '../stores/contract.js';

/** Identities whose lease is kept at most (the oldest is dropped beyond). */
const MAX_LEASES = 10_000;

/** Largest lease, hits. */
export const MAX_LEASE_SIZE = 50;

/**
 * The lease size for a limit: 1% of it, between 1 and {@link MAX_LEASE_SIZE}
 * (a limit under 200 is taken hit by hit, exactly as before leases).
 * @param limit - the identity limit per window
 */
export function leaseSizeFor(limit: number): number {
  return Math.max(1, Math.min(MAX_LEASE_SIZE, Math.floor(limit / 100)));
}

interface Lease {
  /** When the window ends, ms since epoch. */
  end: number;
  /** Hits leased and not granted yet. */
  left: number;
  /** The window's hits left in the store after the last lease. */
  stored: number;
  /** The window is spent: refuse until `end`. */
  refused: boolean;
}

/** An identity's quota: one hit per authenticated request. */
export interface IdentityQuota {
  /**
   * Take one hit of `key`'s window.
   * @param key - the window's record key (already bounded in length)
   */
  hit(key: string): Promise<ThrottleOutcome>;
}

/**
 * Create the leased per-identity quota.
 * @param options - the store and collection of the windows, the rule, the clock
 *   and the lease size (default {@link leaseSizeFor} the limit)
 * @example `const q = createIdentityQuota({ store, collection: 'ratelimit', rule: { limit: 6000, windowSeconds: 60 }, clock });`
 */
export function createIdentityQuota(options: {
  store: Store;
  collection: string;
  rule: ThrottleRule & { readonly limit: number };
  clock: Clock;
  leaseSize?: number;
}): IdentityQuota {
  const { store, collection, rule, clock } = options;
  const limit = rule.limit;
  const size = options.leaseSize ?? leaseSizeFor(limit);
  const leases = new Map<string, Lease>();
  const pending = new Map<string, Promise<void>>();

  const granted = (l: Lease): ThrottleOutcome => ({
    allowed: true,
    remaining: Math.max(0, l.stored + l.left),
    limit,
    resetAt: l.end,
    retryAfterSeconds: 0,
  });
  const refusal = (l: Lease, now: number): ThrottleOutcome => ({
    allowed: false,
    remaining: 0,
    limit,
    resetAt: l.end,
    retryAfterSeconds: Math.max(1, Math.ceil((l.end - now) / 1000)),
  });
  const keep = (key: string, l: Lease): void => {
    leases.delete(key);
    if (leases.size >= MAX_LEASES) {
      const oldest = leases.keys().next().value;
      if (oldest !== undefined) leases.delete(oldest);
    }
    leases.set(key, l);
  };

  /** Lease `size` hits (then one when fewer are left); the first of them is this request's. */
  const take = async (
    key: string,
    now: number,
    last: Lease | undefined,
  ): Promise<ThrottleOutcome> => {
    const ref: RecordRef = { collection, key };
    // A lease fits only while the window had that many left when last seen here.
    if (size > 1 && (last === undefined || last.end <= now || last.stored >= size)) {
      const r = await store.update(
        ref,
        { inc: { count: size } },
        {
          where: { fields: [{ field: 'count', op: 'lte', value: limit - size }] },
          orCreate: { data: { count: 0 }, expiresAt: now + rule.windowSeconds * 1000 },
          now,
        },
      );
      if (r.ok) {
        const count = typeof r.record.data.count === 'number' ? r.record.data.count : limit;
        const l: Lease = {
          end: r.record.expiresAt ?? now,
          left: size - 1,
          stored: Math.max(0, limit - count),
          refused: false,
        };
        keep(key, l);
        return granted(l);
      }
    }
    const o = await hitThrottle(store, ref, rule, now);
    keep(key, { end: o.resetAt, left: 0, stored: o.remaining, refused: !o.allowed });
    return o;
  };

  const hit = async (key: string): Promise<ThrottleOutcome> => {
    for (;;) {
      const now = clock.now();
      const l = leases.get(key);
      if (l !== undefined && l.end > now) {
        if (l.refused) return refusal(l, now);
        if (l.left > 0) {
          l.left--;
          return granted(l);
        }
      }
      const waiting = pending.get(key);
      if (waiting !== undefined) {
        await waiting;
        continue;
      }
      const p = take(key, now, l);
      const settled = p.then(
        () => undefined,
        () => undefined,
      );
      pending.set(key, settled);
      try {
        return await p;
      } finally {
        pending.delete(key);
      }
    }
  };

  return { hit };
}
