/**
 * Public types of the challenges module (seed 003, ms-token semantics).
 * @module
 */
import type { Clock } from '../core/clock.js';
import type { Keyring } from '../core/keyring.js';
import type { Json, Store } from '../stores/contract.js';

/** The value of `ttl` that makes a challenge live until it is verified or removed. */
export const NEVER = 'never';

/** A lifetime in seconds (1..31536000), or {@link NEVER} for a challenge that never expires. */
export type Ttl = number | typeof NEVER;

/** How the secret of a challenge is generated and delivered. */
export type SecretSettings =
  /** A random UUID v4 (122 bits). */
  | { readonly type: 'uuid'; readonly encrypt?: boolean }
  /** `length` decimal digits (4..64, default 8). */
  | { readonly type: 'number'; readonly length?: number; readonly encrypt?: boolean }
  /**
   * `length` characters (default 8) drawn from `alphabet` (2..256 distinct
   * characters). The alphabet and length must allow at least 10^4 values.
   */
  | {
      readonly type: 'alphabet';
      readonly alphabet: string;
      readonly length?: number;
      readonly encrypt?: boolean;
    };

/**
 * Secret settings as stored and reported: defaults filled in. `encrypt: true`
 * means the caller receives a sealed token (AES-256-GCM) that carries action,
 * id, uid and the secret; `false` means the caller receives the plain secret.
 */
export type ResolvedSecretSettings =
  | { readonly type: 'uuid'; readonly encrypt: boolean }
  | { readonly type: 'number'; readonly length: number; readonly encrypt: boolean }
  | {
      readonly type: 'alphabet';
      readonly alphabet: string;
      readonly length: number;
      readonly encrypt: boolean;
    };

/** Input of `create`. */
export interface CreateChallengeInput {
  /** What the challenge is for (`register`, `reset-password`...), 1..256 characters. */
  readonly action: string;
  /** Who or what it locks: an email address, a phone number, a user id. 1..256 characters. */
  readonly id: string;
  /**
   * Lifetime in seconds, 1..31536000, or `'never'` (default: `defaultTtlSeconds`).
   * `0` is rejected: a never-expiring challenge must be asked for by name.
   */
  readonly ttl?: Ttl;
  /**
   * Refuse any further `create` for this action and id for this many seconds
   * (0..ttl), or `true` for the whole `ttl`. An erasing verify and `remove` end
   * the window early.
   */
  readonly throttle?: number | boolean;
  /** Any JSON value returned by `info` and `verify` (at most 32 KiB serialized). */
  readonly metadata?: Json;
  /**
   * `true` (default): a sealed UUID secret. `false`: no secret; the challenge
   * is completed with its action and id alone. Or settings.
   */
  readonly secret?: boolean | SecretSettings;
  /** Return a `uid` that `regenerate`, `info` and `remove` accept (default false). */
  readonly regenerate?: boolean;
}

/**
 * Input of `import`: an existing challenge (made by another system, e.g.
 * ms-token) whose plain secret is known. Times are ms since epoch.
 */
export interface ImportChallengeInput {
  /** What the challenge is for, 1..256 characters. */
  readonly action: string;
  /** Who or what it locks, 1..256 characters. */
  readonly id: string;
  /**
   * The plain secret the user holds (1..4096 characters), stored only as an
   * HMAC digest; `null` for a challenge without a secret (completed with its
   * action and id alone).
   */
  readonly secret: string | null;
  /**
   * How `regenerate` generates new secrets and whether it seals them, as
   * `create`'s `secret` settings (default: sealed UUIDs). Only with a secret.
   */
  readonly settings?: SecretSettings;
  /**
   * The public challenge id (1..256 characters, unique: `info`, `regenerate`
   * and `remove` find the challenge by it), or `null` (default). With a uid
   * and a secret, `regenerate` may issue new secrets.
   */
  readonly uid?: string | null;
  /** Any JSON value returned by `info` and `verify` (at most 32 KiB serialized). */
  readonly metadata?: Json;
  /** Creation time (default: now). */
  readonly createdAt?: number;
  /** Expiry (after now), or `null` for a challenge that never expires. */
  readonly expiresAt: number | null;
  /** When the challenge was first verified, or `null` (default). */
  readonly verifiedAt?: number | null;
  /**
   * End of a throttle window that refuses `create` for this action and id
   * (default: none). A later end than now opens the window, or moves the end
   * of an open one.
   */
  readonly throttleUntil?: number;
  /** Replace a live challenge for this action and id instead of refusing (default false). */
  readonly replace?: boolean;
}

/** What `create` returns: the only time the secret is available. */
export interface CreatedChallenge {
  readonly action: string;
  readonly id: string;
  /** The public challenge id, when `regenerate` was set. */
  readonly uid?: string;
  /**
   * What to send to the user: a sealed token (`v1.<keyId>.<...>`) when the
   * settings say `encrypt`, else the plain secret. Absent with `secret: false`.
   */
  readonly secret?: string;
  /** Creation time, ms since epoch. */
  readonly createdAt: number;
  /** Expiry, ms since epoch; `null` with `ttl: 'never'`. */
  readonly expiresAt: number | null;
}

/** A challenge as `info` and `verify` report it. Never holds the secret or its hash. */
export interface Challenge {
  readonly action: string;
  readonly id: string;
  /** The public challenge id, or `null` when created without `regenerate`. */
  readonly uid: string | null;
  /** Secret settings, or `false` for a challenge without a secret. */
  readonly settings: ResolvedSecretSettings | false;
  /** The metadata given to `create`. */
  readonly metadata: Json | undefined;
  /** Creation time, ms since epoch. */
  readonly createdAt: number;
  /** Expiry, ms since epoch, or `null` when the ttl is `'never'`. */
  readonly expiresAt: number | null;
  /** The ttl given to `create`, in seconds, or `'never'`. */
  readonly ttl: Ttl;
  /** Whether `regenerate` may issue a new secret. */
  readonly regenerate: boolean;
  /** Starts at 1; +1 on every `regenerate`. */
  readonly generation: number;
  /** When the challenge was first verified (ms since epoch), or `null`. */
  readonly verifiedAt: number | null;
  /** Wrong secrets presented for this challenge so far (attempts in flight included). */
  readonly failedAttempts: number;
  /** Attempt times (ms since epoch, oldest first) recorded by `verify(..., { log: true })`. */
  readonly attempts: readonly number[];
}

/** A successfully verified challenge. */
export interface VerifiedChallenge extends Challenge {
  /** Whether this call was the first successful verification. */
  readonly isFirstVerification: boolean;
  /** When the challenge was first verified, ms since epoch. */
  readonly verifiedAt: number;
}

/**
 * What `verify` accepts: a sealed token as `create` returned it, or the
 * action and id with the plain secret (`token`). A challenge created with
 * `secret: false` is verified with its action and id alone.
 */
export type VerifyInput =
  | string
  | { readonly action: string; readonly id: string; readonly token?: string };

/** Options of `verify`. */
export interface VerifyOptions {
  /**
   * Delete the challenge on success and end its throttle window, in the same
   * atomic step (default true). With `false` the challenge stays until it
   * expires and later verifications report `isFirstVerification: false`.
   */
  readonly erase?: boolean;
  /** Refuse a token that was issued for another action or id. */
  readonly control?: { readonly action?: string; readonly id?: string };
  /** Record the time of this attempt on the challenge (see {@link Challenge.attempts}). */
  readonly log?: boolean;
}

/** Why a verification failed. */
export type VerifyFailureReason =
  /** No challenge for this action and id (never created, removed, or erased by a verify). */
  | 'not_found'
  /** The challenge has expired. */
  | 'expired'
  /** Wrong secret, or a sealed token of an earlier generation or an earlier challenge. */
  | 'invalid_value'
  /** The challenge has taken its wrong secrets (`attemptBudget.perChallenge`); create a new one. */
  | 'used_up'
  /** The (action, id) has taken its wrong secrets (`attemptBudget.perSubject`); wait `retryAfterSeconds`. */
  | 'locked'
  /** The sealed token is malformed, tampered with, or sealed under an unknown key. */
  | 'invalid_token'
  /** The token was issued for another action or id than `control` says. */
  | 'control_mismatch'
  /** The challenge has a secret, and none was presented. */
  | 'secret_required';

/** Result of `tryVerify`. */
export type VerifyResult =
  | { readonly valid: true; readonly challenge: VerifiedChallenge }
  | {
      readonly valid: false;
      readonly reason: VerifyFailureReason;
      /** Whole seconds until a `locked` budget resets (only with `locked`). */
      readonly retryAfterSeconds?: number;
    };

/** How `info`, `regenerate` and `remove` find a challenge. */
export type ChallengeLookup =
  /** By the uid `create` returned with `regenerate: true`. */
  | { readonly uid: string }
  /** By action and id. */
  | { readonly action: string; readonly id: string };

/**
 * What `info` accepts: a lookup, a sealed token, or action + id + the plain
 * secret as `token` (a wrong secret draws on the attempt budget, as in `verify`).
 */
export type InfoInput =
  | ChallengeLookup
  | string
  | { readonly action: string; readonly id: string; readonly token: string };

/** What `regenerate` returns. */
export interface RegeneratedChallenge {
  readonly action: string;
  readonly id: string;
  readonly uid: string;
  /** The new secret: a sealed token or the plain secret, as the settings say. */
  readonly secret: string;
  /** The new generation (tokens of earlier generations stop working). */
  readonly generation: number;
}

/** Options of `regenerate`. */
export interface RegenerateOptions {
  /**
   * A resend cooldown: refuse while a throttle window is open for this action
   * and id, and open one of this many seconds (1..31536000). Default: none.
   */
  readonly throttle?: number;
}

/** Options of `remove`. */
export interface RemoveOptions {
  /** Remove only if the challenge is still at this generation (else `ConflictError`). */
  readonly generation?: number;
}

/**
 * Attempt budgets on plain secrets. Sealed tokens cannot be guessed (forging
 * one needs the server key), so they do not draw on them.
 */
export interface AttemptBudget {
  /**
   * Wrong secrets one challenge accepts before it is used up (default 5). The
   * count survives `regenerate`; only a new `create` starts a new challenge.
   */
  readonly perChallenge?: number;
  /**
   * Wrong secrets per (action, id) within `lockSeconds` before every plain
   * secret for it is refused for `lockSeconds` (default 10). Survives
   * `regenerate` and re-creation.
   */
  readonly perSubject?: number;
  /** Counting window and lock length, in seconds (default 900). */
  readonly lockSeconds?: number;
}

/** Options of `createChallenges`. */
export interface ChallengesOptions {
  /** Where challenges live. */
  readonly store: Store;
  /** Server keys: secrets are stored as HMAC-SHA-256 and tokens sealed under these. */
  readonly keyring: Keyring;
  /** Time source (default: the system clock). */
  readonly clock?: Clock;
  /** Attempt budgets (defaults: 5 per challenge, 10 per (action, id) per 15 minutes). */
  readonly attemptBudget?: AttemptBudget;
  /** Lifetime when `create` gives no `ttl`, in seconds (default 3600). */
  readonly defaultTtlSeconds?: number;
  /** Store collection name (default `challenge`). */
  readonly collection?: string;
}
