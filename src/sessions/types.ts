/**
 * Public types of the sessions module: sessions for owners and the transition
 * tokens that live under them.
 * @module
 */
import type { Clock } from '../core/clock.js';
import type { Keyring } from '../core/keyring.js';
import type { Json, JsonObject, Store } from '../stores/contract.js';

/** One minute, one hour, one day, in ms (for readable defaults). */
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Defaults of {@link SessionsOptions}, in ms. */
export const SESSION_DEFAULTS = Object.freeze({
  /** Idle (sliding) timeout of a session: 7 days. */
  idleTimeoutMs: 7 * DAY,
  /** Absolute cap on a session's life, from its creation: 30 days. */
  absoluteTimeoutMs: 30 * DAY,
  /** Activity is written at most once per hour (and at least once per half idle timeout). */
  activityIntervalMs: HOUR,
  /** How long a detached session lives on: 7 days. */
  detachTimeoutMs: 7 * DAY,
  /** Own lifetime of a transition token: none (bound tokens still end with their session). */
  tokenTimeoutMs: null,
  /** How long a transferable token waits, unassigned, for a new owner: 24 hours. */
  disownmentTimeoutMs: DAY,
});

/** Longest timeout accepted anywhere, in ms (10 years). */
export const MAX_TIMEOUT_MS = 3650 * DAY;

/** Shortest token accepted: tokens are looked up by value alone, so they must carry >= 112 bits. */
export const MIN_TOKEN_LENGTH = 22;

/**
 * Makes new token values (session tokens and transition tokens). Tessera's
 * default is `prefix + 256 random bits as base64url` (43 characters).
 * A maker must return a string of at least {@link MIN_TOKEN_LENGTH} characters
 * drawn from a CSPRNG.
 */
export type TokenMaker = (prefix?: string) => string;

/** Names a session: by its bearer token (the client's), or by its public id (listings, admin). */
export type SessionRef = { readonly token: string } | { readonly id: string };

/** Names a transition token: by its value (the bearer's), or by its public id (listings, admin). */
export type TokenRef = { readonly token: string } | { readonly id: string };

/** A session as callers see it: never the token, never its hash input. */
export interface SessionInfo {
  /**
   * Public id: SHA-256 of the token (or HMAC-SHA-256 under the keyring), unpadded base64url.
   * Safe to show and log; it cannot be used as the token.
   */
  readonly id: string;
  /** Who the session belongs to. */
  readonly owner: string;
  /** Creation time, ms since epoch. */
  readonly createdAt: number;
  /**
   * Last recorded activity, ms since epoch (recorded at most once per activity interval).
   * For a non-sliding session: when its countdown started, moved on by the time it spent detached.
   */
  readonly lastActiveAt: number;
  /** When the session ends unless activity or attach extends it, ms since epoch; `null`: never. */
  readonly expiresAt: number | null;
  /** The absolute cap, ms since epoch; `null`: none. */
  readonly absoluteExpiresAt: number | null;
  /** Idle timeout in ms; `null`: none. */
  readonly idleTimeoutMs: number | null;
  /**
   * Whether activity extends the idle timeout (the default). When false, the
   * timeout is a fixed countdown from `lastActiveAt` (creation, the last
   * `setTimeouts` of `idleTimeoutMs`), paused while detached.
   */
  readonly sliding: boolean;
  /** How long the session lives on once detached, in ms; `null`: until the absolute cap. */
  readonly detachTimeoutMs: number | null;
  /** Whether the session may be detached. */
  readonly detachable: boolean;
  /** Whether the session is detached (logged out, kept alive). */
  readonly detached: boolean;
  /** When it was detached, ms since epoch; `null` when attached. */
  readonly detachedAt: number | null;
  /** The application payload given at creation. */
  readonly data: JsonObject | undefined;
}

/**
 * Why a session token does not authenticate. `wrong_owner`: the session
 * belongs to another owner than the one `validate` was asked to expect.
 */
export type SessionInvalidReason = 'not_found' | 'expired' | 'revoked' | 'detached' | 'wrong_owner';

/** Options of `validate`. */
export interface ValidateOptions {
  /**
   * The owner the session must belong to (1..256 characters). A session of
   * another owner answers `wrong_owner` and nothing is written: no activity
   * is recorded, an ended session's tokens are not released.
   */
  readonly owner?: string;
}

/** Result of `validate`. */
export type SessionCheck =
  | { readonly valid: true; readonly session: SessionInfo }
  | { readonly valid: false; readonly reason: SessionInvalidReason };

/** Timeouts of one session, in ms; `null` switches one off. */
export interface SessionTimeouts {
  /** Idle (sliding) timeout, 1..{@link MAX_TIMEOUT_MS}. */
  readonly idleTimeoutMs?: number | null;
  /** Absolute cap counted from the session's creation, 1..{@link MAX_TIMEOUT_MS}. */
  readonly absoluteTimeoutMs?: number | null;
  /** Life of the session once detached, 1..{@link MAX_TIMEOUT_MS}. */
  readonly detachTimeoutMs?: number | null;
}

/** Input of `create`. */
export interface CreateSessionInput extends SessionTimeouts {
  /** The owner (a user id...), 1..256 characters, no control characters. */
  readonly owner: string;
  /**
   * The session token to use (at least {@link MIN_TOKEN_LENGTH} characters of
   * CSPRNG output); generated by the token maker when omitted (recommended).
   */
  readonly token?: string;
  /** Prefix for a generated token (ignored with `token`), up to 64 characters. */
  readonly prefix?: string;
  /** Whether the session may be detached (default false; see `allowDetach`). */
  readonly detachable?: boolean;
  /**
   * Whether activity extends the idle timeout (default true). With false, the
   * idle timeout is a fixed countdown: from creation, restarted only by
   * `setTimeouts({ idleTimeoutMs })`, paused while detached (attach resumes
   * what was left); `validate` then never writes.
   */
  readonly sliding?: boolean;
  /** An application payload (a JSON object, up to 16 KiB). */
  readonly data?: JsonObject;
}

/** What a transition token is. */
export type TokenKind =
  /** A token with a value, tied to no owner or session. */
  | 'plain'
  /** Valid only while its session is: dies with it, at once. */
  | 'bound'
  /** Owned; may be carried by a session, transferred, acquired, sold. */
  | 'transferable';

/** Where a transition token stands now (computed from its record and its session's). */
export type TokenState =
  /** A plain token. */
  | 'plain'
  /** A bound token whose session is live. */
  | 'bound'
  /** A transferable token carried by its owner's live session. */
  | 'carried'
  /** A transferable token held by its owner outside any session. */
  | 'held'
  /** A transferable token with no owner, waiting for a transfer or an acquire until its disownment deadline. */
  | 'unassigned';

/** A transition token as callers see it: never the token itself. */
export interface TokenInfo {
  /** Public id: SHA-256 of the token (or HMAC-SHA-256 under the keyring), unpadded base64url. */
  readonly id: string;
  readonly kind: TokenKind;
  readonly state: TokenState;
  /** The owner; `null` for plain and unassigned tokens. */
  readonly owner: string | null;
  /** Id of the session it is bound to or carried by; `null` otherwise. */
  readonly sessionId: string | null;
  /** The value given when the token was added (a string or any JSON). */
  readonly value: Json;
  /** Creation time, ms since epoch. */
  readonly createdAt: number;
  /**
   * When the token ends, ms since epoch, as far as its own record says (own timeout, or
   * disownment deadline); `null`: no own end. A bound token also ends with its session.
   */
  readonly expiresAt: number | null;
  /** Own timeout in ms (counted from when it was set); `null`: none. */
  readonly timeoutMs: number | null;
  /** How long it may stay unassigned, in ms. */
  readonly disownmentTimeoutMs: number;
  /** When it became unassigned, ms since epoch; `null` unless unassigned. */
  readonly releasedAt: number | null;
  /** Whether it is marked sellable. */
  readonly sellable: boolean;
  /** The amount attached to it (positive or negative); `null`: none. */
  readonly price: number | null;
}

/** Why a transition token is not active. */
export type TokenInactiveReason = 'not_found' | 'expired' | 'session_ended';

/** Result of `tokens.check`. */
export type TokenCheck =
  | { readonly active: true; readonly value: Json; readonly token: TokenInfo }
  | { readonly active: false; readonly reason: TokenInactiveReason };

/** Input of `tokens.add`. */
export interface AddTokenInput {
  /** What the token is (default `plain`). */
  readonly kind?: TokenKind;
  /** The value the token stands for: a string or any JSON (up to 32 KiB). */
  readonly value: Json;
  /** The token to use (at least {@link MIN_TOKEN_LENGTH} characters); generated when omitted. */
  readonly token?: string;
  /** Prefix for a generated token (ignored with `token`), up to 64 characters. */
  readonly prefix?: string;
  /**
   * The session: required for `bound`; for `transferable`, the session that carries it
   * (omit to have the owner hold it outside any session).
   */
  readonly session?: SessionRef;
  /** Owner of a `transferable` token (required without `session`; must match the session's). */
  readonly owner?: string;
  /** Own timeout in ms from now, or `null` for none (default: `tokenTimeoutMs`). */
  readonly timeoutMs?: number | null;
  /** Disownment timeout of this token in ms (default: `disownmentTimeoutMs`). */
  readonly disownmentTimeoutMs?: number;
}

/** Options of a transfer. */
export interface TransferOptions {
  /** The current owner, or `null` for an unassigned token. The transfer fails otherwise. */
  readonly from: string | null;
  /** The new owner. */
  readonly to: string;
  /** A live session of `to` that will carry the token (otherwise `to` holds it). */
  readonly toSession?: SessionRef;
}

/** Paging of listings. */
export interface PageOptions {
  /** Items per page, 1..1000 (default 100). A page may hold fewer when items are filtered out. */
  readonly limit?: number;
  /** Cursor from the previous page. */
  readonly cursor?: string | null;
}

/** A page of a listing. */
export interface ListPage<T> {
  readonly items: readonly T[];
  /** Cursor for the next page; `null` on the last one. */
  readonly cursor: string | null;
}

/** Options of `createSessions`. All durations in ms; `null` switches a timeout off. */
export interface SessionsOptions {
  /** Where sessions and tokens live. */
  readonly store: Store;
  /**
   * Server keys: with a keyring, tokens are stored as HMAC-SHA-256 under it (ids then
   * depend on the key; rotation keeps old ids working). Without, as SHA-256.
   */
  readonly keyring?: Keyring;
  /** Time source (default: the system clock). */
  readonly clock?: Clock;
  /** Makes tokens (default: CSPRNG, 256 bits, base64url, after the prefix). */
  readonly tokenMaker?: TokenMaker;
  /** At most one session per owner: a new one ends the previous one (default false). */
  readonly onePerOwner?: boolean;
  /** Default idle timeout (default 7 days). */
  readonly idleTimeoutMs?: number | null;
  /** Default absolute cap (default 30 days). */
  readonly absoluteTimeoutMs?: number | null;
  /** Activity write interval (default 1 hour; at least once per half idle timeout). */
  readonly activityIntervalMs?: number;
  /** Default life of a detached session (default 7 days). */
  readonly detachTimeoutMs?: number | null;
  /** Default own timeout of transition tokens (default `null`: none). */
  readonly tokenTimeoutMs?: number | null;
  /** Default disownment timeout (default 24 hours). */
  readonly disownmentTimeoutMs?: number;
  /**
   * How long an ended session's record is kept so its transferable tokens can be
   * released with the exact end time (default: the disownment timeout, at least 1 hour).
   */
  readonly endedRetentionMs?: number;
  /** Store collections (default `sessions` and `session_tokens`). */
  readonly collections?: { readonly sessions?: string; readonly tokens?: string };
}
