/**
 * The failure budget of a token id, per client source, kept in a Tessera
 * store: every attempt is charged BEFORE its secret is evaluated, in one
 * conditional store write (`count < limit`, creating the window if needed),
 * and given back when the secret was right. So parallel wrong guesses from a
 * source never get more evaluations than the budget, and only wrong secrets
 * use it up.
 *
 * The budget is per (token id, source), not per token id alone: token ids
 * are not secret (JWT `sub`, listings), so a budget shared by every client
 * would let anyone who knows an id lock its owner out. A source whose budget
 * is spent gets 429 without evaluation, even for the right secret (from the
 * same source, a right secret cannot be told from a guess without evaluating
 * it, which is exactly what the budget refuses); the owner, from any other
 * source, still exchanges its token.
 * @module
 */
import type { Clock } from '../core/clock.js';
import { checkThrottleRule, retryAfterSeconds, type ThrottleRule } from '../core/throttle.js';
import type { RecordRef, Store } from '../stores/contract.js';

/** A charged attempt, to give back with {@link TokenIdBudget.refund}. */
export interface BudgetTicket {
  /** The window record charged. */
  readonly ref: RecordRef;
  /** When the charged window started, ms since epoch (a refund never reaches a later window). */
  readonly startedAt: number;
}

/** Outcome of {@link TokenIdBudget.charge}. */
export type ChargeResult =
  | { readonly ok: true; readonly ticket: BudgetTicket }
  | { readonly ok: false; readonly retryAfterSeconds: number };

/** The per-(token id, source) failure budget. */
export interface TokenIdBudget {
  /**
   * Take one attempt from the budget of `tokenId` for the client at `ip`, in one
   * atomic store write; refused (with the wait in whole seconds) when it is spent.
   * @throws StoreUnavailableError / StoreError when the store fails (fail closed)
   */
  charge(tokenId: string, ip: string): Promise<ChargeResult>;
  /**
   * Give a charged attempt back (the secret was right). A window that has
   * ended since is left alone.
   * @throws StoreUnavailableError / StoreError when the store fails
   */
  refund(ticket: BudgetTicket): Promise<void>;
}

function ipv6Network64(ip: string): string | null {
  const [head = '', tail, extra] = ip.toLowerCase().split('::');
  if (extra !== undefined) return null;
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  if (right.length > 0 && right[right.length - 1]?.includes('.')) right.splice(-1, 1, '0', '0');
  if (left.length > 0 && left[left.length - 1]?.includes('.')) left.splice(-1, 1, '0', '0');
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return null;
  const groups = [...left, ...Array<string>(missing).fill('0'), ...right];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * The source a budget is kept for: the IPv4 address (also when written as an
 * IPv4-mapped IPv6 address), the /64 network of an IPv6 address (one host
 * usually holds a whole /64), or the printable part of anything else.
 *
 * @param ip - the client address as the framework reports it
 * @example `sourceOf('2001:db8:1:2:3:4:5:6') // '2001:db8:1:2::/64'`
 */
export function sourceOf(ip: string): string {
  const raw = ip.trim();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(raw);
  if (mapped) return mapped[1] as string;
  if (raw.includes(':')) {
    const net = ipv6Network64(raw.replace(/%.*$/, ''));
    if (net !== null) return net;
  }
  const clean = raw.replace(/[^\x21-\x7e]/g, '').slice(0, 100);
  return clean === '' ? 'unknown' : clean;
}

/**
 * Create the budget.
 *
 * @param options - `store` and `collection` of the windows; `rule` (failures per
 *   `windowSeconds`); `clock`
 * @throws RangeError for a bad rule
 * @example
 * ```ts
 * const budget = createTokenIdBudget({ store, collection: 'http-throttle', rule: { limit: 10, windowSeconds: 300 }, clock });
 * const c = await budget.charge(tokenId, ip);
 * if (c.ok && (await verify(token)).valid) await budget.refund(c.ticket);
 * ```
 */
export function createTokenIdBudget(options: {
  readonly store: Store;
  readonly collection: string;
  readonly rule: ThrottleRule;
  readonly clock: Clock;
}): TokenIdBudget {
  const { store, collection, rule, clock } = options;
  checkThrottleRule(rule);
  const limit = rule.limit ?? 1;
  const windowMs = rule.windowSeconds * 1000;
  return Object.freeze({
    async charge(tokenId: string, ip: string): Promise<ChargeResult> {
      const now = clock.now();
      const ref: RecordRef = {
        collection,
        key: `id:${encodeURIComponent(tokenId)}:${encodeURIComponent(sourceOf(ip))}`,
      };
      const r = await store.update(
        ref,
        { inc: { count: 1 } },
        {
          where: { fields: [{ field: 'count', op: 'lt', value: limit }] },
          orCreate: { data: { count: 0, startedAt: now }, expiresAt: now + windowMs },
          now,
        },
      );
      if (!r.ok) return { ok: false, retryAfterSeconds: retryAfterSeconds(r.current, now) };
      const startedAt = r.record.data.startedAt;
      return {
        ok: true,
        ticket: { ref, startedAt: typeof startedAt === 'number' ? startedAt : now },
      };
    },
    async refund(ticket: BudgetTicket): Promise<void> {
      await store.update(
        ticket.ref,
        { inc: { count: -1 } },
        {
          where: {
            liveAt: clock.now(),
            fields: [
              { field: 'startedAt', op: 'eq', value: ticket.startedAt },
              { field: 'count', op: 'gt', value: 0 },
            ],
          },
        },
      );
    },
  });
}
