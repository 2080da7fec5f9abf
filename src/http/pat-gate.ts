/**
 * The one place where presented PATs are verified over HTTP: brute-force
 * throttling (per client IP, counted before the costly verification, and per
 * token id, counted on failures) in a Tessera store, and the bootstrap policy
 * (only for an unknown token id, never on every failed login).
 * @module
 */
import { type Clock, systemClock } from '../core/clock.js';
import { hitThrottle, retryAfterSeconds, type ThrottleRule } from '../core/throttle.js';
import type { RecordRef, Store } from '../stores/contract.js';
import { defaultTokenIdOf } from './credentials.js';
import type {
  AccessTokenMethods,
  AuthHandlerOptions,
  HttpLogger,
  PatRecord,
  PatThrottleOptions,
} from './types.js';

/** Default per-IP rule: 30 attempts a minute. */
export const DEFAULT_PER_IP_RULE: ThrottleRule = Object.freeze({ limit: 30, windowSeconds: 60 });
/** Default per-token-id rule: 10 failures per 5 minutes. */
export const DEFAULT_PER_TOKEN_ID_RULE: ThrottleRule = Object.freeze({
  limit: 10,
  windowSeconds: 300,
});
/** Default store collection of the throttle windows. */
export const DEFAULT_THROTTLE_COLLECTION = 'http-throttle';
/** Longest PAT string looked at; longer ones fail without a store read. */
export const MAX_PRESENTED_TOKEN_LENGTH = 512;

/** Outcome of {@link PatGate.verify}. */
export type GateResult =
  | { readonly ok: true; readonly record: PatRecord }
  | { readonly ok: false; readonly throttled: false; readonly reason: string }
  | { readonly ok: false; readonly throttled: true; readonly retryAfterSeconds: number };

/** Throttled PAT verification. */
export interface PatGate {
  /**
   * Verify a presented PAT for a client at `ip`.
   * @param allowBootstrap - try `bootstrap` for an unknown id (token endpoint only)
   */
  verify(token: string, ip: string, allowBootstrap: boolean): Promise<GateResult>;
}

interface Windows {
  readonly store: Store;
  readonly collection: string;
  readonly perIp: ThrottleRule | null;
  readonly perTokenId: ThrottleRule | null;
}

function windowsOf(throttle: PatThrottleOptions | false | undefined): Windows | null {
  if (!throttle) return null;
  return {
    store: throttle.store,
    collection: throttle.collection ?? DEFAULT_THROTTLE_COLLECTION,
    perIp: throttle.perIp === false ? null : (throttle.perIp ?? DEFAULT_PER_IP_RULE),
    perTokenId:
      throttle.perTokenId === false ? null : (throttle.perTokenId ?? DEFAULT_PER_TOKEN_ID_RULE),
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
  const windows = windowsOf(options.throttle);
  const tokenIdOf = options.tokenIdOf ?? defaultTokenIdOf;
  const bootstrapOwner = options.bootstrapOwner ?? 'admin';
  const canBootstrap = options.bootstrap !== false && typeof pat.bootstrap === 'function';
  const idRef = (w: Windows, tokenId: string): RecordRef => ({
    collection: w.collection,
    key: `id:${tokenId}`,
  });

  async function before(ip: string, tokenId: string | null): Promise<number> {
    if (windows === null) return 0;
    const now = clock.now();
    if (windows.perIp !== null) {
      const r = await hitThrottle(
        windows.store,
        { collection: windows.collection, key: ipKey(ip) },
        windows.perIp,
        now,
      );
      if (!r.allowed) return r.retryAfterSeconds;
    }
    if (windows.perTokenId !== null && tokenId !== null) {
      const w = await windows.store.get(idRef(windows, tokenId));
      const limit = windows.perTokenId.limit ?? 1;
      const live = w !== null && (w.expiresAt === null || w.expiresAt > now);
      if (live && typeof w.data.count === 'number' && w.data.count >= limit) {
        return retryAfterSeconds(w, now);
      }
    }
    return 0;
  }

  async function failed(tokenId: string | null): Promise<void> {
    if (windows === null || windows.perTokenId === null || tokenId === null) return;
    await hitThrottle(windows.store, idRef(windows, tokenId), windows.perTokenId, clock.now());
  }

  return Object.freeze({
    async verify(token: string, ip: string, allowBootstrap: boolean): Promise<GateResult> {
      const tokenId = token.length <= MAX_PRESENTED_TOKEN_LENGTH ? tokenIdOf(token) : null;
      const wait = await before(ip, tokenId);
      if (wait > 0) {
        logger?.warn({ ip, tokenId }, 'tessera: PAT verification throttled');
        return { ok: false, throttled: true, retryAfterSeconds: wait };
      }
      if (token.length > MAX_PRESENTED_TOKEN_LENGTH) {
        return { ok: false, throttled: false, reason: 'invalid_format' };
      }
      let result = await pat.verify(token);
      if (!result.valid && result.reason === 'not_found' && allowBootstrap && canBootstrap) {
        try {
          const boot = await pat.bootstrap?.(token, { owner: bootstrapOwner });
          if (boot?.valid) result = boot;
        } catch (err) {
          logger?.warn({ err, tokenId }, 'tessera: bootstrap failed');
        }
      }
      if (result.valid) return { ok: true, record: result.record };
      await failed(tokenId);
      logger?.warn({ reason: result.reason, tokenId }, 'tessera: PAT verification failed');
      return { ok: false, throttled: false, reason: result.reason };
    },
  });
}
