/**
 * The one place where presented PATs are verified over HTTP: brute-force
 * throttling in a Tessera store, and the bootstrap policy (only for an
 * unknown token id, never on every failed login).
 *
 * Throttling policy (both windows in `throttle.store`, shared by every
 * instance on that store):
 * - per client IP: every attempt counts, before the costly verification
 *   (default 30 per minute);
 * - per (token id, client source): a failure budget (default 10 per 5
 *   minutes), charged atomically before the secret is evaluated and given
 *   back when it was right, so parallel wrong guesses never get more
 *   evaluations than the budget, and right secrets never use it up. It is
 *   kept per source (the IP, or its /64 for IPv6) because token ids are not
 *   secret: a budget per id alone would let anyone lock the owner out. A
 *   source whose budget is spent gets 429 without evaluation, even with the
 *   right secret; the owner, from elsewhere, is not affected. See
 *   {@link createTokenIdBudget}.
 * @module
 */
import { type Clock, systemClock } from '../core/clock.js';
import { checkThrottleRule, hitThrottle, type ThrottleRule } from '../core/throttle.js';
import type { Store } from '../stores/contract.js';
import { defaultTokenIdOf } from './credentials.js';
import { type BudgetTicket, createTokenIdBudget, type TokenIdBudget } from './token-id-budget.js';
import type {
  AccessTokenMethods,
  AuthHandlerOptions,
  HttpLogger,
  PatRecord,
  PatThrottleOptions,
  PatVerifyResult,
} from './types.js';

/** Default per-IP rule: 30 attempts a minute. */
export const DEFAULT_PER_IP_RULE: ThrottleRule = Object.freeze({ limit: 30, windowSeconds: 60 });
/** Default per-(token id, source) rule: 10 failures per 5 minutes. */
export const DEFAULT_PER_TOKEN_ID_RULE: ThrottleRule = Object.freeze({
  limit: 10,
  windowSeconds: 300,
});
/** Default store collection of the throttle windows. */
export const DEFAULT_THROTTLE_COLLECTION = 'http-throttle';
/** Longest PAT string looked at, characters; longer ones fail without a store read. */
export const MAX_PRESENTED_TOKEN_LENGTH = 512;

/** Outcome of {@link PatGate.verify}. */
export type GateResult =
  | { readonly ok: true; readonly record: PatRecord }
  | { readonly ok: false; readonly throttled: false; readonly reason: string }
  | { readonly ok: false; readonly throttled: true; readonly retryAfterSeconds: number };

/** Throttled PAT verification. */
export interface PatGate {
  /**
   * Verify a presented PAT for a client at `ip`, charging the throttle windows first.
   * @param token - the presented PAT
   * @param ip - the client address (for the per-IP window and the per-source budget)
   * @param allowBootstrap - try `bootstrap` for an unknown id (token endpoint only)
   * @returns the record, a failure reason, or `throttled` with the seconds to wait
   * @throws StoreUnavailableError / StoreError when the store fails (fail closed), and
   *   whatever `pat.verify` throws
   */
  verify(token: string, ip: string, allowBootstrap: boolean): Promise<GateResult>;
}

interface Windows {
  readonly store: Store;
  readonly collection: string;
  readonly perIp: ThrottleRule | null;
  readonly perTokenId: TokenIdBudget | null;
}

function isStore(v: unknown): v is Store {
  const s = v as Partial<Store> | null | undefined;
  return typeof s?.update === 'function' && typeof s.get === 'function';
}

/**
 * The throttle options in effect: the given ones, `null` for `false`, and by
 * default the default rules in `pat.store` when the access-token object
 * exposes a store (`null` when it does not).
 *
 * @param throttle - `AuthHandlerOptions.throttle`
 * @param pat - the access-token methods
 * @example `effectiveThrottle(undefined, pat) // { store: pat.store } when pat has one`
 */
export function effectiveThrottle(
  throttle: PatThrottleOptions | false | undefined,
  pat: AccessTokenMethods,
): PatThrottleOptions | null {
  if (throttle === false) return null;
  if (throttle !== undefined) return throttle;
  return isStore(pat.store) ? { store: pat.store } : null;
}

function windowsOf(throttle: PatThrottleOptions | null, clock: Clock): Windows | null {
  if (throttle === null) return null;
  const collection = throttle.collection ?? DEFAULT_THROTTLE_COLLECTION;
  if (throttle.perIp) checkThrottleRule(throttle.perIp);
  const rule =
    throttle.perTokenId === false ? null : (throttle.perTokenId ?? DEFAULT_PER_TOKEN_ID_RULE);
  return {
    store: throttle.store,
    collection,
    perIp: throttle.perIp === false ? null : (throttle.perIp ?? DEFAULT_PER_IP_RULE),
    perTokenId:
      rule === null
        ? null
        : createTokenIdBudget({ store: throttle.store, collection, rule, clock }),
  };
}

function ipKey(ip: string): string {
  const clean = ip.replace(/[^\x21-\x7e]/g, '').slice(0, 100);
  return `ip:${clean === '' ? 'unknown' : clean}`;
}

/**
 * Create the gate.
 *
 * @param options - the auth handler options (`pat`, `throttle`, `bootstrap`, `clock`, `logger`)
 * @throws RangeError for a bad throttle rule
 * @example
 * ```ts
 * const gate = createPatGate({ pat, signerVerifier, throttle: { store } });
 * const r = await gate.verify(token, req.ip, true);
 * ```
 */
export function createPatGate(
  options: Pick<
    AuthHandlerOptions,
    'pat' | 'throttle' | 'bootstrap' | 'bootstrapOwner' | 'clock' | 'logger' | 'tokenIdOf'
  >,
): PatGate {
  const pat: AccessTokenMethods = options.pat;
  const clock: Clock = options.clock ?? systemClock;
  const logger: HttpLogger | undefined = options.logger;
  const windows = windowsOf(effectiveThrottle(options.throttle, pat), clock);
  if (windows === null && options.throttle === undefined) {
    logger?.warn(
      {},
      'tessera: token endpoint throttling is OFF (pat exposes no store): pass throttle: { store }',
    );
  }
  const tokenIdOf = options.tokenIdOf ?? defaultTokenIdOf;
  const bootstrapOwner = options.bootstrapOwner ?? 'admin';
  const canBootstrap = options.bootstrap !== false && typeof pat.bootstrap === 'function';

  /** Charge the windows; the seconds to wait when refused, else the ticket to refund. */
  async function charge(
    ip: string,
    tokenId: string | null,
  ): Promise<{ wait: number; ticket: BudgetTicket | null }> {
    if (windows === null) return { wait: 0, ticket: null };
    if (windows.perIp !== null) {
      const r = await hitThrottle(
        windows.store,
        { collection: windows.collection, key: ipKey(ip) },
        windows.perIp,
        clock.now(),
      );
      if (!r.allowed) return { wait: r.retryAfterSeconds, ticket: null };
    }
    if (windows.perTokenId === null || tokenId === null) return { wait: 0, ticket: null };
    const c = await windows.perTokenId.charge(tokenId, ip);
    return c.ok ? { wait: 0, ticket: c.ticket } : { wait: c.retryAfterSeconds, ticket: null };
  }

  async function refund(ticket: BudgetTicket | null, tokenId: string | null): Promise<void> {
    if (ticket === null || windows?.perTokenId == null) return;
    try {
      await windows.perTokenId.refund(ticket);
    } catch (err) {
      // The secret was right: a lost refund only costs this source one attempt.
      logger?.warn({ err, tokenId }, 'tessera: throttle refund failed');
    }
  }

  return Object.freeze({
    async verify(token: string, ip: string, allowBootstrap: boolean): Promise<GateResult> {
      const tokenId = token.length <= MAX_PRESENTED_TOKEN_LENGTH ? tokenIdOf(token) : null;
      const { wait, ticket } = await charge(ip, tokenId);
      if (wait > 0) {
        logger?.warn({ ip, tokenId }, 'tessera: PAT verification throttled');
        return { ok: false, throttled: true, retryAfterSeconds: wait };
      }
      if (token.length > MAX_PRESENTED_TOKEN_LENGTH) {
        return { ok: false, throttled: false, reason: 'invalid_format' };
      }
      let result: PatVerifyResult;
      try {
        result = await pat.verify(token);
      } catch (err) {
        // Nothing was learnt about the secret: the attempt is not a failure.
        await refund(ticket, tokenId);
        throw err;
      }
      if (!result.valid && result.reason === 'not_found' && allowBootstrap && canBootstrap) {
        try {
          const boot = await pat.bootstrap?.(token, { owner: bootstrapOwner });
          if (boot?.valid) result = boot;
        } catch (err) {
          logger?.warn({ err, tokenId }, 'tessera: bootstrap failed');
        }
      }
      if (result.valid) {
        await refund(ticket, tokenId);
        return { ok: true, record: result.record };
      }
      logger?.warn({ reason: result.reason, tokenId }, 'tessera: PAT verification failed');
      return { ok: false, throttled: false, reason: result.reason };
    },
  });
}
