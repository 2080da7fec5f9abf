/**
 * Options of the session_tokens facade, and the ms conversions it shares with
 * the seed DB adapter (the seed measures everything in ms and uses `Infinity`
 * for "never").
 * @module
 */
import type { Clock } from '../../core/clock.js';
import type { Keyring } from '../../core/keyring.js';
import { createSessions, MAX_TIMEOUT_MS, type Sessions } from '../../sessions/index.js';
import type { Store } from '../../stores/contract.js';

/** The seed's token maker type: `(prefix?) => token`. */
export type TokenCreator = (prefix?: string) => string;

/** Tessera options of the facade (the seed had none); durations in ms, `Infinity` for never. */
export interface TokenTablesOptions {
  /** Time source (default: the system clock). */
  readonly clock?: Clock;
  /** Store tokens as HMAC-SHA-256 under these keys instead of SHA-256. */
  readonly keyring?: Keyring;
  /** Store collections (default `sessions` and `session_tokens`). */
  readonly collections?: { readonly sessions?: string; readonly tokens?: string };
  /**
   * General session timeout (default 3600000, the seed's one hour). By default
   * it is the seed's lifetime: counted from creation, never extended by
   * activity (see {@link TokenTablesOptions.slidingSessions}).
   */
  readonly sessionTimeoutMs?: number;
  /**
   * `true`: the session timeout is an idle timeout that activity
   * (`active_session`) extends, Tessera's native sessions. Default `false`:
   * the seed's countdown from creation (re-armed by `set_session_timeout`,
   * paused while detached), so a 1 h session ends 1 h after it began however
   * busy it is. Applies to sessions created from then on; each session keeps
   * the kind it was created with.
   */
  readonly slidingSessions?: boolean;
  /** Absolute cap on any session (default 30 days; the seed had none: pass `Infinity`). */
  readonly absoluteTimeoutMs?: number;
  /** How long a detached session lives on (default 7 days). */
  readonly detachTimeoutMs?: number;
  /** General token timeout (default `Infinity`, as the seed meant it). */
  readonly tokenTimeoutMs?: number;
  /** How long transferable tokens stay unassigned (default 24 hours; finite). */
  readonly disownmentTimeoutMs?: number;
  /** Activity writes at most this often (default one hour, at least once per half timeout; finite). */
  readonly activityIntervalMs?: number;
}

/**
 * An option in ms: `Infinity` → `null` (never) when `never` allows it; any other
 * value must be an integer in 1..{@link MAX_TIMEOUT_MS}.
 * @throws RangeError otherwise
 */
export function fromMs(ms: number, name: string, never = true): number | null {
  if (never && ms === Number.POSITIVE_INFINITY) return null;
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 1 || ms > MAX_TIMEOUT_MS) {
    throw new RangeError(
      `${name} must be an integer number of ms in 1..${MAX_TIMEOUT_MS}${never ? ', or Infinity' : ''}`,
    );
  }
  return ms;
}

/** `null` (never) → `Infinity`. */
export function toMs(ms: number | null): number {
  return ms === null ? Number.POSITIVE_INFINITY : ms;
}

/**
 * Check the facade's own options (the native API checks the rest).
 * @throws TypeError / RangeError for bad options
 */
export function facadeDefaults(options: TokenTablesOptions): {
  sessionTimeoutMs: number;
  tokenTimeoutMs: number;
  slidingSessions: boolean;
} {
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 3_600_000;
  const tokenTimeoutMs = options.tokenTimeoutMs ?? Number.POSITIVE_INFINITY;
  const slidingSessions = options.slidingSessions ?? false;
  fromMs(sessionTimeoutMs, 'sessionTimeoutMs');
  fromMs(tokenTimeoutMs, 'tokenTimeoutMs');
  if (typeof slidingSessions !== 'boolean') {
    throw new TypeError('slidingSessions must be a boolean');
  }
  return { sessionTimeoutMs, tokenTimeoutMs, slidingSessions };
}

/** Build the native API the facade runs on. */
export function nativeSessions(store: Store, options: TokenTablesOptions): Sessions {
  const optional = (v: number | undefined, name: string, never = true) =>
    v === undefined ? undefined : fromMs(v, name, never);
  const disown = optional(options.disownmentTimeoutMs, 'disownmentTimeoutMs', false);
  const activity = optional(options.activityIntervalMs, 'activityIntervalMs', false);
  return createSessions({
    store,
    clock: options.clock,
    keyring: options.keyring,
    collections: options.collections,
    absoluteTimeoutMs: optional(options.absoluteTimeoutMs, 'absoluteTimeoutMs'),
    detachTimeoutMs: optional(options.detachTimeoutMs, 'detachTimeoutMs'),
    ...(disown == null ? {} : { disownmentTimeoutMs: disown }),
    ...(activity == null ? {} : { activityIntervalMs: activity }),
  });
}

/** A string that has the shape of a Tessera public id (43 base64url characters). */
export function looksLikeId(s: unknown): s is string {
  return typeof s === 'string' && /^[A-Za-z0-9_-]{43}$/.test(s);
}

/** The seed stored non-string values as JSON text. */
export function asSeedValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
