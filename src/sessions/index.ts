/**
 * `tessera/sessions`: sessions for owners, and the transition tokens that live
 * under them (seed 004, session_tokens, with its intended semantics).
 *
 * Design, in short:
 * - **Hashed at rest.** Session and transition tokens are stored as SHA-256
 *   (HMAC-SHA-256 under a keyring) and looked up by that hash, which is also
 *   their public `id`: listings return ids, never bearer tokens.
 * - **One record decides.** A session is live while its record's `endsAt` is
 *   in the future (and, in one-per-owner mode, its owner's slot names it). A
 *   bound token records its session's id and generation and is active only
 *   while that session is live with that generation, so it dies with the
 *   session's one ending write, at once. A transferable token carried by an
 *   ended session is unassigned from the session's end for its disownment
 *   timeout, computed on read; releasing it in storage (on destroy, on first
 *   sight, or by `collect`) only keeps listings current.
 * - **Partitions.** Every record is its own partition, because a reader knows
 *   only a token and the partition is part of the address. Nothing needs a
 *   multi-record transaction: relations are pointers checked on read, and each
 *   state change is one conditional single-record write. A transfer between
 *   owners is one write on the token record (ownership, owner index and
 *   session pointer move together); the receiving session is only read, and
 *   marked `has_tokens` first (harmless if the transfer then fails).
 * - **Race-free.** Every write is conditioned on the version read or on
 *   liveness (`endsAt > now`), never a blind upsert. Activity writes are
 *   conditioned on the version, so a slow request cannot resurrect a session
 *   destroyed meanwhile; destroy is conditioned on liveness only, so activity
 *   cannot make it fail. Several concurrent transfers or acquires of one token:
 *   exactly one wins.
 * - **No timers.** Expiry is absolute time from the injected clock; a session
 *   slides by writing `lastActiveAt` at most once per activity interval.
 *
 * @example
 * ```ts
 * import { createSessions } from 'tessera/sessions';
 * const sessions = createSessions({ store });
 * const { token } = await sessions.create({ owner: 'alice' });
 * if ((await sessions.validate(token)).valid) { ... }
 * ```
 * @module
 */
export { createSessions, type Sessions, type TransitionTokens } from './create-sessions.js';
export { defaultTokenMaker } from './token-maker.js';
export {
  type AddTokenInput,
  type CreateSessionInput,
  type ListPage,
  MAX_TIMEOUT_MS,
  MIN_TOKEN_LENGTH,
  type PageOptions,
  SESSION_DEFAULTS,
  type SessionCheck,
  type SessionInfo,
  type SessionInvalidReason,
  type SessionRef,
  type SessionsOptions,
  type SessionTimeouts,
  type TokenCheck,
  type TokenInactiveReason,
  type TokenInfo,
  type TokenKind,
  type TokenMaker,
  type TokenRef,
  type TokenState,
  type TransferOptions,
  type ValidateOptions,
} from './types.js';
