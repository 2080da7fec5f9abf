/**
 * Rate limits kept in the Tessera store, so they hold across every instance
 * on a shared store: a fixed window per client IP (anonymous routes and failed
 * authentications), each hit one atomic `hitThrottle` step, and per identity
 * (authenticated requests), taken from the store in leases of up to 50 hits
 * (`identity-quota.ts`): never more than the limit, one store write per lease.
 *
 * Answers carry the IETF draft-6 fields (`RateLimit-Limit`, `-Remaining`,
 * `-Reset` in seconds, and `RateLimit-Policy: <limit>;w=<window>`); a refusal
 * is 429 with `Retry-After`.
 *
 * An IP whose failure budget is spent is also remembered in-process until its
 * window ends, so further attempts are refused before any credential is
 * checked. Another instance learns the block at that IP's next failure there,
 * so across N instances at most `limit + N - 1` failed attempts get checked per
 * window.
 * @module
 */
import type { Clock } from '../core/clock.js';
import { hitThrottle, type ThrottleOutcome } from '../core/throttle.js';
import type { Store } from '../stores/contract.js';
import { ipRateKey } from './client-ip.js';
import type { RateLimitSetting } from './config.js';
import { createIdentityQuota } from './identity-quota.js';

/** Collection of the rate-limit windows. */
export const RATE_LIMIT_COLLECTION = 'ratelimit';

const MAX_BLOCKED = 10_000;

/** Outcome of a hit, with the headers to send. */
export interface RateLimitHit {
  readonly allowed: boolean;
  readonly headers: Record<string, string>;
  readonly retryAfterSeconds: number;
}

/** The service's rate limiter. */
export interface RateLimiter {
  /** Take one hit from the IP window (null when the IP policy is off). */
  hitIp(ip: string): Promise<RateLimitHit | null>;
  /** Take one hit from an identity's window (null when the identity policy is off). */
  hitIdentity(id: string): Promise<RateLimitHit | null>;
  /** Whether the IP is known (in this process) to have spent its budget: its headers, or null. */
  blocked(ip: string): RateLimitHit | null;
}

function answer(o: ThrottleOutcome, windowSeconds: number, now: number): RateLimitHit {
  const reset = Math.max(0, Math.ceil((o.resetAt - now) / 1000));
  const headers: Record<string, string> = {
    'ratelimit-limit': String(o.limit),
    'ratelimit-remaining': String(o.remaining),
    'ratelimit-reset': String(reset),
    'ratelimit-policy': `${o.limit};w=${windowSeconds}`,
  };
  if (!o.allowed) headers['retry-after'] = String(o.retryAfterSeconds);
  return { allowed: o.allowed, headers, retryAfterSeconds: o.retryAfterSeconds };
}

/**
 * Create the rate limiter.
 * @example `const rl = createRateLimiter({ store, clock, ip: { limit: 300, windowSeconds: 60 }, identity: null });`
 */
export function createRateLimiter(options: {
  store: Store;
  clock: Clock;
  ip: RateLimitSetting;
  identity: RateLimitSetting;
  /** Hits of an identity's window taken from the store at once (default: 1% of its limit, 1..50; see `identity-quota.ts`). */
  identityLeaseSize?: number;
}): RateLimiter {
  const { store, clock, ip, identity } = options;
  const blockedUntil = new Map<string, { until: number; limit: number; window: number }>();
  const quota = identity
    ? createIdentityQuota({
        store,
        collection: RATE_LIMIT_COLLECTION,
        rule: identity,
        clock,
        ...(options.identityLeaseSize === undefined
          ? {}
          : { leaseSize: options.identityLeaseSize }),
      })
    : null;

  return {
    async hitIp(address) {
      if (!ip) return null;
      const key = ipRateKey(address);
      const now = clock.now();
      const o = await hitThrottle(
        store,
        { collection: RATE_LIMIT_COLLECTION, key: `ip:${key}` },
        ip,
        now,
      );
      if (!o.allowed) {
        if (blockedUntil.size >= MAX_BLOCKED) {
          const oldest = blockedUntil.keys().next().value;
          if (oldest !== undefined) blockedUntil.delete(oldest);
        }
        blockedUntil.set(key, { until: o.resetAt, limit: o.limit, window: ip.windowSeconds });
      }
      return answer(o, ip.windowSeconds, now);
    },
    async hitIdentity(id) {
      if (!identity || quota === null) return null;
      const o = await quota.hit(`id:${id.slice(0, 400)}`);
      return answer(o, identity.windowSeconds, clock.now());
    },
    blocked(address) {
      if (!ip || blockedUntil.size === 0) return null;
      const key = ipRateKey(address);
      const b = blockedUntil.get(key);
      if (!b) return null;
      const now = clock.now();
      if (b.until <= now) {
        blockedUntil.delete(key);
        return null;
      }
      const retry = Math.max(1, Math.ceil((b.until - now) / 1000));
      return answer(
        {
          allowed: false,
          remaining: 0,
          limit: b.limit,
          resetAt: b.until,
          retryAfterSeconds: retry,
        },
        b.window,
        now,
      );
    },
  };
}
