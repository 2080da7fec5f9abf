/**
 * Fixed-window throttling on the store contract: the one place where the
 * throttle policy lives. A window is a record whose `count` grows by one per
 * allowed hit and whose `expiresAt` ends the window; the store's atomic
 * `update ... orCreate` makes every hit one step, so K concurrent hits on a
 * limit of N give exactly N allowances, on every backend.
 * @module
 */
import type { RecordRef, Store, StoredRecord, TransactOp } from '../stores/contract.js';

/** A throttle rule: at most `limit` hits per `windowSeconds`. */
export interface ThrottleRule {
  /** Hits allowed per window (>= 1, default 1). */
  readonly limit?: number;
  /** Window length in seconds (>= 1). */
  readonly windowSeconds: number;
}

/**
 * Check a throttle rule.
 * @throws RangeError when the limit or window is not a positive integer
 */
export function checkThrottleRule(rule: ThrottleRule): void {
  const limit = rule.limit ?? 1;
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new RangeError('throttle limit must be an integer >= 1');
  if (
    !Number.isSafeInteger(rule.windowSeconds) ||
    rule.windowSeconds < 1 ||
    rule.windowSeconds > 31_536_000
  ) {
    throw new RangeError('throttle windowSeconds must be an integer in 1..31536000');
  }
}

/**
 * The transaction step that takes one hit from a window, or fails when the
 * window is full. Put it in a `transact` beside the write it guards.
 *
 * @param ref - the window record (choose a partition shared with the guarded write)
 * @param rule - the rule
 * @param now - the caller's clock, ms since epoch
 */
export function throttleHitOp(ref: RecordRef, rule: ThrottleRule, now: number): TransactOp {
  return {
    type: 'update',
    ref,
    mutation: { inc: { count: 1 } },
    where: { fields: [{ field: 'count', op: 'lt', value: rule.limit ?? 1 }] },
    orCreate: { data: { count: 0 }, expiresAt: now + rule.windowSeconds * 1000 },
  };
}

/**
 * Whole seconds until a full window ends (at least 1).
 * @param window - the window record returned by a failed hit
 * @param now - the caller's clock, ms since epoch
 */
export function retryAfterSeconds(window: StoredRecord | null, now: number): number {
  if (window === null || window.expiresAt === null) return 1;
  return Math.max(1, Math.ceil((window.expiresAt - now) / 1000));
}

/** Outcome of {@link hitThrottle}. */
export interface ThrottleOutcome {
  /** Whether this hit was allowed. */
  readonly allowed: boolean;
  /** Hits left in the window after this one. */
  readonly remaining: number;
  /** The limit of the rule. */
  readonly limit: number;
  /** When the window ends, ms since epoch. */
  readonly resetAt: number;
  /** Whole seconds until a retry may succeed (0 when allowed). */
  readonly retryAfterSeconds: number;
}

/**
 * Take one hit from a window in one atomic store step.
 *
 * @example
 * ```ts
 * const r = await hitThrottle(store, { collection: 'ratelimit', key: `ip:${ip}` }, { limit: 100, windowSeconds: 60 }, clock.now());
 * if (!r.allowed) reply(429, { 'Retry-After': r.retryAfterSeconds });
 * ```
 */
export async function hitThrottle(
  store: Store,
  ref: RecordRef,
  rule: ThrottleRule,
  now: number,
): Promise<ThrottleOutcome> {
  checkThrottleRule(rule);
  const limit = rule.limit ?? 1;
  const op = throttleHitOp(ref, rule, now);
  if (op.type !== 'update') throw new Error('unreachable');
  const r = await store.update(ref, op.mutation, { where: op.where, orCreate: op.orCreate, now });
  if (r.ok) {
    const count = typeof r.record.data.count === 'number' ? r.record.data.count : limit;
    const resetAt = r.record.expiresAt ?? now;
    return {
      allowed: true,
      remaining: Math.max(0, limit - count),
      limit,
      resetAt,
      retryAfterSeconds: 0,
    };
  }
  const resetAt = r.current?.expiresAt ?? now + 1000;
  return {
    allowed: false,
    remaining: 0,
    limit,
    resetAt,
    retryAfterSeconds: retryAfterSeconds(r.current, now),
  };
}
