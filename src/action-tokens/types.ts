/**
 * Public types of the action-tokens module.
 * @module
 */
import type { Clock } from '../core/clock.js';
import type { Keyring } from '../core/keyring.js';
import type { JsonObject, Store } from '../stores/contract.js';

/** An action token as callers see it: never the value, never its hash. */
export interface ActionToken {
  /** Who the token belongs to (a user id, an email address...). */
  readonly owner: string;
  /** What it is for (`verify-email`, `reset-password`...). */
  readonly action: string;
  /** Attempts left: every use, right or wrong, takes one. */
  readonly remainingUses: number;
  /** Creation time, ms since epoch. */
  readonly createdAt: number;
  /** Expiry, ms since epoch. */
  readonly expiresAt: number;
  /** The payload stored at creation. */
  readonly data: JsonObject | undefined;
  /** Whether the token can be used by value alone (no owner). */
  readonly lookup: boolean;
}

/** How to generate a value when the caller supplies none. */
export type GenerateOptions =
  /** A numeric code of `length` digits (default 8), e.g. for email or SMS. */
  | { readonly kind: 'code'; readonly length?: number }
  /** A base64url secret of `bytes` random bytes (default 32), e.g. for links. */
  | { readonly kind: 'secret'; readonly bytes?: number };

/** A throttle on creation: at most `limit` creates per window per key. */
export interface CreateThrottle {
  /** Window length in seconds. */
  readonly windowSeconds: number;
  /** Creates allowed per window (default 1). */
  readonly limit?: number;
  /** The identity throttled (default: the owner). */
  readonly id?: string;
  /**
   * Further keys checked in the same atomic step, e.g. the client IP:
   * `[{ id: \`ip:${ip}\`, windowSeconds: 3600, limit: 20 }]`.
   */
  readonly also?: ReadonlyArray<{
    readonly id: string;
    readonly windowSeconds: number;
    readonly limit?: number;
  }>;
}

/** Input of `create`. */
export interface CreateInput {
  readonly owner: string;
  readonly action: string;
  /**
   * The value to store (its HMAC, bound to owner and action). When omitted,
   * one is generated as `generate` says.
   */
  readonly value?: string;
  /** How to generate the value (default: a 256-bit secret). */
  readonly generate?: GenerateOptions;
  /** Attempts allowed, 1..1000000 (default 5 for codes, 1 otherwise). */
  readonly remainingUses?: number;
  /** Lifetime in seconds, 1..31536000 (default `defaultTtlSeconds`). */
  readonly ttlSeconds?: number;
  /** Absolute expiry, ms since epoch (instead of `ttlSeconds`). */
  readonly expiresAt?: number;
  /** A JSON payload returned by `use` and `peek`. */
  readonly data?: JsonObject;
  /** Replace a live token for the same owner and action (default false). */
  readonly overwrite?: boolean;
  /**
   * Allow `use` without the owner (magic links). Requires a value with at
   * least 112 bits of entropy: a generated secret, or a supplied value of at
   * least {@link MIN_LOOKUP_VALUE_LENGTH} characters whose estimate
   * (`estimateEntropyBits`: length times the bits its alphabet and variety
   * allow) reaches 112 bits, so 34 random digits, 28 hex digits or 22
   * base64url characters, but no shorter. Default: true for
   * generated secrets, false otherwise.
   */
  readonly lookup?: boolean;
  /** Throttle creation, checked in the same atomic step as the write. */
  readonly throttle?: CreateThrottle;
}

/** Input of `use`. */
export interface UseInput {
  /** The owner; omit to look the token up by value (only for `lookup` tokens). */
  readonly owner?: string;
  readonly action: string;
  readonly value: string;
  /** Zero the remaining uses when the value is right, in the same atomic step (default true). */
  readonly drainWhenValid?: boolean;
}

/** Result of a verification that does not throw. */
export type UseResult =
  | { readonly valid: true; readonly token: ActionToken }
  | {
      readonly valid: false;
      readonly reason: 'not_found' | 'expired' | 'used_up' | 'invalid_value' | 'locked';
      /** Whole seconds until a locked budget resets (only with `locked`). */
      readonly retryAfterSeconds?: number;
    };

/** The failure budget per (owner, action): survives a resend (`overwrite`). */
export interface FailureBudget {
  /** Wrong values allowed before the budget locks (default 10). */
  readonly maxFailures: number;
  /** How long a spent budget stays locked, in seconds (default 900). */
  readonly lockSeconds: number;
}

/** Options of `createActionTokens`. */
export interface ActionTokensOptions {
  /** Where tokens live. */
  readonly store: Store;
  /** Server keys: values are stored as HMAC-SHA-256 under these. */
  readonly keyring: Keyring;
  /** Time source (default: the system clock). */
  readonly clock?: Clock;
  /** Default lifetime in seconds (default 600: ten minutes). */
  readonly defaultTtlSeconds?: number;
  /** Failure budget per (owner, action), or `false` to rely on `remainingUses` alone. */
  readonly failureBudget?: FailureBudget | false;
  /** Store collection name (default `action`). */
  readonly collection?: string;
}

/** Shortest supplied value allowed for owner-less lookup (22 base64url characters carry 132 bits). */
export const MIN_LOOKUP_VALUE_LENGTH = 22;
