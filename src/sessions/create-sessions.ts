/**
 * The sessions API: `createSessions(options)` returns a frozen object with the
 * session operations and, under `tokens`, the transition-token operations.
 * @module
 */
import type { Json } from '../stores/contract.js';
import {
  listDetachedSessions,
  listOwnerSessions,
  listOwnerTokens,
  listSellableTokens,
  listSessionTokens,
  listUnassignedTokens,
} from './listings.js';
import { createCtx } from './records.js';
import {
  allowDetach,
  attachSession,
  collectEnded,
  createSession,
  destroyAllSessions,
  destroySession,
  detachSession,
  getSession,
  setSessionTimeouts,
  validateSession,
} from './sessions.js';
import { makeToken } from './token-maker.js';
import {
  acquireToken,
  addToken,
  checkTransitionToken,
  destroyToken,
  getToken,
  setDisownmentTimeout,
  setSellable,
  setTokenTimeout,
  setTokenValue,
  transferToken,
  unsetSellable,
} from './transition-tokens.js';
import type {
  AddTokenInput,
  CreateSessionInput,
  ListPage,
  PageOptions,
  SessionCheck,
  SessionInfo,
  SessionRef,
  SessionsOptions,
  SessionTimeouts,
  TokenCheck,
  TokenInfo,
  TokenKind,
  TokenRef,
  TransferOptions,
  ValidateOptions,
} from './types.js';
import { registerContext } from './unreleased.js';

/** Transition tokens: plain, session-bound and transferable (see {@link createSessions}). */
export interface TransitionTokens {
  /**
   * Make a token value with the configured maker (CSPRNG by default).
   * @param prefix - optional prefix, up to 64 characters
   * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) for a bad prefix, or when the maker returns fewer than 22 characters
   * @example `const t = sessions.tokens.create('tt_');`
   */
  create(prefix?: string): string;
  /**
   * Add a token standing for a value (a string or any JSON). `bound` tokens die
   * with their session; `transferable` ones belong to an owner, may be carried
   * by a session, and outlive it as unassigned for their disownment timeout.
   * Returns the token (the only time it is available) and its info.
   * @throws NotFoundError (`ERR_TESSERA_NOT_FOUND`) when the session is not live
   * @throws ForbiddenError (`ERR_TESSERA_FORBIDDEN`) when `owner` does not own the session
   * @throws AlreadyExistsError (`ERR_TESSERA_ALREADY_EXISTS`) when an active token has this value
   * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) for bad arguments
   * @example `const { token } = await sessions.tokens.add({ kind: 'bound', session: { token: st }, value: { cart: 42 } });`
   */
  add(input: AddTokenInput): Promise<{ token: string; info: TokenInfo }>;
  /**
   * Whether a presented token is active, with its value. A bound token is
   * active only while its session is live; never throws for a bad token.
   * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) when `token` is not a 22..1024 character string
   * @example `const r = await sessions.tokens.check(t); if (r.active) use(r.value);`
   */
  check(token: string): Promise<TokenCheck>;
  /**
   * An active token's info (owner, session, state, sellable, timeouts), or `null`.
   * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) for a bad reference
   * @example `const info = await sessions.tokens.get({ id });`
   */
  get(ref: TokenRef): Promise<TokenInfo | null>;
  /**
   * The owner of an active token; `null` when it has none (plain, unassigned) or is not active.
   * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) for a bad reference
   * @example `await sessions.tokens.ownerOf({ token: t }) // 'user-1'`
   */
  ownerOf(ref: TokenRef): Promise<string | null>;
  /**
   * Transfer a transferable token from `from` (`null`: unassigned) to `to`,
   * optionally into a live session of `to`; keeps sellable state and amount.
   * Exactly one of several concurrent transfers wins.
   * @throws NotFoundError (`ERR_TESSERA_NOT_FOUND`) when the token or `toSession` is not live
   * @throws ForbiddenError (`ERR_TESSERA_FORBIDDEN`) when the token is not transferable, not `from`'s, or `toSession` is not `to`'s
   * @throws ConflictError (`ERR_TESSERA_CONFLICT`) when the token keeps changing under the transfer
   * @example `await sessions.tokens.transfer({ id }, { from: 'alice', to: 'bob' });`
   */
  transfer(ref: TokenRef, options: TransferOptions): Promise<TokenInfo>;
  /**
   * Acquire a presented transferable token into a live session: allowed when
   * it is unassigned or already belongs to the session's owner.
   * @throws NotFoundError (`ERR_TESSERA_NOT_FOUND`) when the token or session is not live
   * @throws ForbiddenError (`ERR_TESSERA_FORBIDDEN`) when it is not transferable or belongs to another owner
   * @example `await sessions.tokens.acquire(giftToken, { token: sessionToken });`
   */
  acquire(token: string, session: SessionRef): Promise<TokenInfo>;
  /**
   * Mark a transferable token sellable, with an optional amount (positive or negative).
   * @throws NotFoundError, ForbiddenError (not transferable), InvalidInputError (bad amount)
   * @example `await sessions.tokens.setSellable({ id }, { price: 12.5 });`
   */
  setSellable(ref: TokenRef, options?: { price?: number }): Promise<TokenInfo>;
  /**
   * Mark a transferable token not sellable; its amount is kept.
   * @throws NotFoundError, ForbiddenError (not transferable)
   * @example `await sessions.tokens.unsetSellable({ id });`
   */
  unsetSellable(ref: TokenRef): Promise<TokenInfo>;
  /**
   * Replace an active token's value (a string or any JSON); kind, owner and session stay.
   * @throws NotFoundError (`ERR_TESSERA_NOT_FOUND`) when the token is not active
   * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) for a bad value or reference
   * @example `await sessions.tokens.setValue({ token: t }, { step: 2 });`
   */
  setValue(ref: TokenRef, value: Json): Promise<TokenInfo>;
  /**
   * Set a token's own timeout in ms from now (`null`: none).
   * @throws NotFoundError, InvalidInputError
   * @example `await sessions.tokens.setTimeout({ token: t }, 15 * 60_000);`
   */
  setTimeout(ref: TokenRef, timeoutMs: number | null): Promise<TokenInfo>;
  /**
   * Set how long a transferable token may stay unassigned, in ms.
   * @throws NotFoundError, ForbiddenError (not transferable), InvalidInputError
   * @example `await sessions.tokens.setDisownmentTimeout({ id }, 3_600_000);`
   */
  setDisownmentTimeout(ref: TokenRef, disownmentTimeoutMs: number): Promise<TokenInfo>;
  /**
   * Destroy a token. Resolves to whether an active token was destroyed.
   * @throws InvalidInputError for a bad reference
   * @example `await sessions.tokens.destroy({ token: t });`
   */
  destroy(ref: TokenRef): Promise<boolean>;
  /**
   * Tokens of a live session (both kinds, or `kind`), one page.
   * @throws InvalidInputError for bad arguments or cursor
   * @example `const { items } = await sessions.tokens.listBySession({ token: st }, { kind: 'transferable' });`
   */
  listBySession(
    session: SessionRef,
    options?: PageOptions & { kind?: TokenKind },
  ): Promise<ListPage<TokenInfo>>;
  /**
   * Tokens an owner holds or carries, one page.
   * @throws InvalidInputError for bad arguments or cursor
   * @example `const { items, cursor } = await sessions.tokens.listByOwner('alice');`
   */
  listByOwner(owner: string, options?: PageOptions): Promise<ListPage<TokenInfo>>;
  /**
   * Active sellable tokens with their amounts, one page.
   * @throws InvalidInputError for a bad cursor
   * @example `for (const t of (await sessions.tokens.listSellable()).items) show(t.id, t.price);`
   */
  listSellable(options?: PageOptions): Promise<ListPage<TokenInfo>>;
  /**
   * Unassigned tokens within their disownment timeout, one page. Includes
   * tokens of sessions that timed out once `collect` (or any read) released them.
   * @throws InvalidInputError for a bad cursor
   * @example `const { items } = await sessions.tokens.listUnassigned();`
   */
  listUnassigned(options?: PageOptions): Promise<ListPage<TokenInfo>>;
}

/** The sessions API (see {@link createSessions}). */
export interface Sessions {
  /**
   * Create a session for an owner. Returns the token (only here, in
   * plaintext) and the session. In one-per-owner mode, the owner's previous
   * session ends.
   * @throws AlreadyExistsError (`ERR_TESSERA_ALREADY_EXISTS`) when a supplied token names a live session
   * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) for bad arguments
   * @example `const { token, session } = await sessions.create({ owner: 'alice', detachable: true });`
   */
  create(input: CreateSessionInput): Promise<{ token: string; session: SessionInfo }>;
  /**
   * Check a session token: `{ valid: true, session }`, or the reason
   * (`not_found`, `expired`, `revoked`, `detached`, `wrong_owner`). Records
   * activity (sliding the idle window) at most once per activity interval,
   * conditioned on the version read, so it can never bring back a session
   * destroyed meanwhile. With `options.owner`, the owner is checked first: a
   * session of another owner answers `wrong_owner` and nothing is written.
   * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) when `token` is not a 22..1024 character string, or `options.owner` not a name
   * @example `const r = await sessions.validate(cookie, { owner: userId }); if (!r.valid) return reply(401);`
   */
  validate(token: string, options?: ValidateOptions): Promise<SessionCheck>;
  /**
   * A live session (attached or detached), without recording activity; `null` when there is none.
   * `expiresAt - clock.now()` is its time left.
   * @throws InvalidInputError for a bad reference
   * @example `const s = await sessions.get({ id }); s?.detached`
   */
  get(ref: SessionRef): Promise<SessionInfo | null>;
  /**
   * Change a session's idle timeout (its idle window restarts now), absolute
   * cap (counted from creation) or detachment timeout; `null` switches one off.
   * @throws NotFoundError (`ERR_TESSERA_NOT_FOUND`) when the session is not live (or the new cap ended it)
   * @throws InvalidInputError for bad values
   * @example `await sessions.setTimeouts({ token }, { idleTimeoutMs: 30 * 60_000 });`
   */
  setTimeouts(ref: SessionRef, timeouts: SessionTimeouts): Promise<SessionInfo>;
  /**
   * Allow (default) or forbid detaching a session.
   * @throws NotFoundError when the session is not live
   * @example `await sessions.allowDetach({ token });`
   */
  allowDetach(ref: SessionRef, allowed?: boolean): Promise<SessionInfo>;
  /**
   * Detach a session (log out, keep it): it stops authenticating, is listed
   * by `listDetached`, keeps its tokens, and lives on for its detachment timeout.
   * @throws NotFoundError when the session is not live
   * @throws ForbiddenError (`ERR_TESSERA_FORBIDDEN`) when it does not allow detachment
   * @example `await sessions.detach({ token });`
   */
  detach(ref: SessionRef): Promise<SessionInfo>;
  /**
   * Attach a detached session again: it authenticates again with a fresh idle window.
   * @throws NotFoundError when the session is not live (its detachment timeout passed)
   * @example `await sessions.attach({ id });`
   */
  attach(ref: SessionRef): Promise<SessionInfo>;
  /**
   * Destroy a session. One write ends it, so its bound tokens die at once;
   * then bound tokens are deleted and transferable ones become unassigned for
   * their disownment timeout. Resolves to whether a live session was ended.
   * @throws InvalidInputError for a bad reference
   * @example `await sessions.destroy({ token: cookie });`
   */
  destroy(ref: SessionRef): Promise<boolean>;
  /**
   * Log an owner out everywhere, or everywhere but `except`. Resolves to how
   * many sessions it ended. A session created while it runs may survive.
   * @throws InvalidInputError for bad arguments
   * @example `await sessions.destroyAll('alice', { except: { token: cookie } });`
   */
  destroyAll(owner: string, options?: { except?: SessionRef }): Promise<number>;
  /**
   * Live sessions of an owner, one page.
   * @throws InvalidInputError for bad arguments or cursor
   * @example `const { items } = await sessions.listByOwner('alice');`
   */
  listByOwner(owner: string, options?: PageOptions): Promise<ListPage<SessionInfo>>;
  /**
   * Detached sessions still alive, one page.
   * @throws InvalidInputError for a bad cursor
   * @example `const { items } = await sessions.listDetached();`
   */
  listDetached(options?: PageOptions): Promise<ListPage<SessionInfo>>;
  /**
   * Release the tokens of sessions that ended by timing out (bound ones
   * deleted, transferable ones unassigned as of the session's end), up to
   * `limit` sessions (default 100). Their validity never waits for this;
   * it keeps storage and the unassigned listing current. Run it from a job,
   * within `endedRetentionMs` of a session's end.
   * @throws InvalidInputError when `limit` is not in 1..10000
   * @example `await sessions.collect({ limit: 500 });`
   */
  collect(options?: { limit?: number }): Promise<{ sessions: number; tokens: number }>;
  /** Transition tokens. */
  readonly tokens: TransitionTokens;
}

/**
 * Create the sessions API over a store.
 *
 * Defaults (DESIGN.md): session tokens are 256-bit CSPRNG secrets stored as
 * SHA-256 (HMAC-SHA-256 with a keyring) and looked up by that hash; sessions
 * idle out after 7 days and end after 30 days at most; activity is written at
 * most hourly (and at least once per half idle timeout); detached sessions
 * live 7 days; transition tokens have no own timeout; unassigned tokens wait
 * 24 hours. Every expiry is an absolute time from the injected clock: no
 * timers, nothing to shut down.
 *
 * @param options - store, keyring, clock, token maker, mode and defaults (see {@link SessionsOptions})
 * @returns a frozen {@link Sessions}
 * @throws TypeError / RangeError for bad options
 * @example
 * ```ts
 * const sessions = createSessions({ store });
 * const { token } = await sessions.create({ owner: 'alice' });
 * const r = await sessions.validate(token); // { valid: true, session }
 * const { token: cartToken } = await sessions.tokens.add({ kind: 'bound', session: { token }, value: { cart: 1 } });
 * await sessions.destroy({ token }); // cartToken stops being active at once
 * ```
 */
export function createSessions(options: SessionsOptions): Sessions {
  const ctx = createCtx(options);
  const tokens: TransitionTokens = Object.freeze({
    create: (prefix?: string) => makeToken(ctx.maker, prefix),
    add: (input: AddTokenInput) => addToken(ctx, input),
    check: (token: string) => checkTransitionToken(ctx, token),
    get: (ref: TokenRef) => getToken(ctx, ref),
    ownerOf: async (ref: TokenRef) => (await getToken(ctx, ref))?.owner ?? null,
    transfer: (ref: TokenRef, o: TransferOptions) => transferToken(ctx, ref, o),
    acquire: (token: string, session: SessionRef) => acquireToken(ctx, token, session),
    setSellable: (ref: TokenRef, o?: { price?: number }) => setSellable(ctx, ref, o),
    unsetSellable: (ref: TokenRef) => unsetSellable(ctx, ref),
    setValue: (ref: TokenRef, value: Json) => setTokenValue(ctx, ref, value),
    setTimeout: (ref: TokenRef, ms: number | null) => setTokenTimeout(ctx, ref, ms),
    setDisownmentTimeout: (ref: TokenRef, ms: number) => setDisownmentTimeout(ctx, ref, ms),
    destroy: (ref: TokenRef) => destroyToken(ctx, ref),
    listBySession: (s: SessionRef, o?: PageOptions & { kind?: TokenKind }) =>
      listSessionTokens(ctx, s, o),
    listByOwner: (owner: string, o?: PageOptions) => listOwnerTokens(ctx, owner, o),
    listSellable: (o?: PageOptions) => listSellableTokens(ctx, o),
    listUnassigned: (o?: PageOptions) => listUnassignedTokens(ctx, o),
  });
  const api: Sessions = Object.freeze({
    create: (input: CreateSessionInput) => createSession(ctx, input),
    validate: (token: string, o?: ValidateOptions) => validateSession(ctx, token, o),
    get: (ref: SessionRef) => getSession(ctx, ref),
    setTimeouts: (ref: SessionRef, t: SessionTimeouts) => setSessionTimeouts(ctx, ref, t),
    allowDetach: (ref: SessionRef, allowed = true) => allowDetach(ctx, ref, allowed),
    detach: (ref: SessionRef) => detachSession(ctx, ref),
    attach: (ref: SessionRef) => attachSession(ctx, ref),
    destroy: (ref: SessionRef) => destroySession(ctx, ref),
    destroyAll: (owner: string, o?: { except?: SessionRef }) => destroyAllSessions(ctx, owner, o),
    listByOwner: (owner: string, o?: PageOptions) => listOwnerSessions(ctx, owner, o),
    listDetached: (o?: PageOptions) => listDetachedSessions(ctx, o),
    collect: (o?: { limit?: number }) => collectEnded(ctx, o),
    tokens,
  });
  registerContext(api, ctx);
  return api;
}
