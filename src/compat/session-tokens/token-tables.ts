/**
 * A drop-in for session_tokens' `TokenTables` class, backed by a Tessera
 * store: the seed's snake_case method names and arguments, durations in ms,
 * and its intended semantics, with its bugs fixed:
 *
 * 1. tokens have no own timeout by default (the seed gave them 0 ms);
 * 2. detach and attach are not inverted, a detached session lives on for its
 *    detachment timeout and attach resumes it (the seed killed it at the next tick);
 * 3. a timed-out session is over: `active_session` is false, its bound tokens are inactive;
 * 4. `destroy_session` takes the session token (a session id, or, as the seed
 *    did, a token bound to the session, also work) and cleans every mapping;
 * 5. unassigned ("orphaned") tokens wait for their disownment timeout and can
 *    be transferred (`transfer_token(t, null, receiver)`) or acquired;
 * 6. a transfer keeps the sellable state and amount, never deletes the value
 *    first, and a receiver without a session still gets the token;
 * 7. there is nothing to reload: state lives in the store and every process sees it;
 * 8. `acquire_token` returns whether it worked;
 * 9. every promise is awaited; store errors reach the caller (nothing is swallowed);
 * 10. tokens come from the CSPRNG (256 bits), not `Math.random` UUIDs;
 * 11-12. no timers: expiry is absolute time, `decrement_timers` and `shutdown` do nothing,
 *    and nothing is written on activity (sliding sessions: at most once per
 *    interval), never every 500 ms;
 * 13. application values never overwrite a token's own state (`_sellable`, `_price`, `_owner`).
 *
 * Session timeouts keep the seed's meaning: a session's timeout is a
 * countdown from its creation that activity never extends (the seed's
 * `decrement_timers`; its `active_session` ignored timing), so a 1 h session
 * touched every 40 min still ends at 1 h. `set_session_timeout(s, ms)` re-arms
 * it from the time it is called (the seed set allotted and left to `ms`), and
 * it is paused while the session is detached (attach resumes what was left).
 * Tessera's sliding idle timeout is available explicitly, with
 * `slidingSessions: true`; both are bounded by `absoluteTimeoutMs` (default
 * 30 days; the seed had no cap: pass `Infinity`).
 *
 * Differences to know:
 * - every method that touches the store returns a promise (the seed had sync ones);
 * - tokens are stored hashed, so listings return token ids (SHA-256 of the token,
 *   43 base64url characters), never bearer tokens; management methods accept a
 *   token or its id, lookups that authenticate (`active_session`,
 *   `transition_token_is_active`, `acquire_token`) only the token;
 * - tokens and session tokens must have 22..1024 characters (they are looked
 *   up by value alone): methods that create a token or session under a shorter
 *   one throw `InvalidInputError`; elsewhere it names nothing (`false`, `undefined`, `""`);
 * - the seed's silent no-ops (no such live token or session, not the caller's,
 *   not transferable, an owner without a session) resolve to `false` (or
 *   `undefined` / `""` for getters); caller mistakes (an amount that is not a
 *   finite number, an owner that is not 1..256 characters of text, a timeout
 *   out of range) throw `InvalidInputError` with `field` naming the seed's
 *   argument (`amount`, `receiver_key`, `timeout`...), whether or not the token exists; the one
 *   exception is `active_session`, which answers `false` to a malformed owner
 *   as it does to a wrong one (it authenticates: a bad credential is an answer, not a mistake);
 * - `add_session` always returns the session's hash (its id); all sessions are
 *   shared through the store, whatever `shared` says;
 * - an owner may have several sessions; "the owner's session" (where
 *   transferable and bound tokens go) is their most recent live attached one;
 * - errors are Tessera's (`ERR_TESSERA_*` codes): the seed had no error classes.
 * @module
 */
import { isTesseraError } from '../../core/errors.js';
import { defaultTokenMaker, type SessionInfo, type Sessions } from '../../sessions/index.js';
import type { SessionRef, TokenInfo, TokenRef } from '../../sessions/types.js';
import { listUnreleasedUnassigned } from '../../sessions/unreleased.js';
import type { Store } from '../../stores/contract.js';
import {
  checkAmountArg,
  checkOwnerArg,
  checkTokenArg,
  isOwnerString,
  isTokenString,
  timeoutArg,
} from './checks.js';
import {
  asSeedValue,
  facadeDefaults,
  fromMs,
  looksLikeId,
  nativeSessions,
  type TokenCreator,
  type TokenTablesOptions,
  toMs,
} from './options.js';
import { backingOf, type DB, seedDbOver } from './seed-db.js';

function isStore(x: unknown): x is Store {
  const s = x as Store | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.update === 'function' &&
    typeof s.findByIndex === 'function' &&
    typeof s.transact === 'function'
  );
}

/**
 * The outcomes the seed answered with a silent no-op (no such live token or
 * session, not the caller's, not transferable): here they resolve to `false`.
 * Caller mistakes (`ERR_TESSERA_INVALID_INPUT`) and store errors are thrown.
 */
function refused(err: unknown): boolean {
  return (
    isTesseraError(err, 'ERR_TESSERA_NOT_FOUND') || isTesseraError(err, 'ERR_TESSERA_FORBIDDEN')
  );
}

async function orFalse(p: () => Promise<unknown>): Promise<boolean> {
  try {
    await p();
    return true;
  } catch (err) {
    if (refused(err)) return false;
    throw err;
  }
}

/**
 * session_tokens' `TokenTables` over a Tessera store (see the module notes for
 * what changed and why). Session timeouts are the seed's lifetime, counted
 * from creation and never extended by activity; pass `slidingSessions: true`
 * for idle timeouts that `active_session` extends.
 *
 * @example
 * ```ts
 * import { TokenTables } from 'tessera/compat/session-tokens';
 * const tables = new TokenTables(store);                 // or new TokenTables(createSeedDb(store))
 * const session = tables.create_token('s_');
 * const hash = await tables.add_session(session, 'user-1');
 * await tables.active_session(session, 'user-1');        // true
 * const t = tables.create_token();
 * await tables.add_transferable_token(t, { item: 7 }, 'user-1');
 * await tables.transfer_token(t, 'user-1', 'user-2');
 * ```
 */
export class TokenTables {
  /** The native Tessera API this facade runs on (for code moving off the seed's API). */
  readonly sessions: Sessions;
  /** The seed's DB interface over the same store. */
  readonly db: DB;
  readonly #clock: () => number;
  #creator: TokenCreator = defaultTokenMaker;
  #sessionTimeoutMs: number;
  #tokenTimeoutMs: number;
  readonly #slidingSessions: boolean;

  /**
   * @param db - a Tessera `Store`, or a DB made by `createSeedDb(store)`. A seed DB
   *   implementation of your own cannot be used: it cannot make writes atomic.
   * @param token_creator - the token maker (default: CSPRNG, 256 bits, after the prefix)
   * @param options - Tessera options (clock, keyring, collections, default timeouts in ms,
   *   `slidingSessions`: see {@link TokenTablesOptions})
   * @throws TypeError when `db` is neither, or `token_creator` is not a function
   * @throws RangeError for bad timeouts
   */
  constructor(
    db: Store | DB,
    token_creator?: TokenCreator | null,
    options: TokenTablesOptions = {},
  ) {
    const backing = backingOf(db);
    let opts = options;
    if (backing !== undefined) {
      this.sessions = backing.sessions;
      opts = { ...backing.options, ...options };
    } else if (isStore(db)) {
      this.sessions = nativeSessions(db, options);
    } else {
      throw new TypeError(
        'db must be a Tessera Store or a DB from createSeedDb(store); a plain seed DB cannot make writes atomic',
      );
    }
    const defaults = facadeDefaults(opts);
    this.#sessionTimeoutMs = defaults.sessionTimeoutMs;
    this.#tokenTimeoutMs = defaults.tokenTimeoutMs;
    this.#slidingSessions = defaults.slidingSessions;
    const clock = opts.clock;
    this.#clock = clock ? () => clock.now() : () => Date.now();
    this.set_token_creator(token_creator);
    this.db = seedDbOver(
      { store: backing?.store ?? (db as Store), sessions: this.sessions, options: opts },
      () => ({
        sessionTimeoutMs: this.#sessionTimeoutMs,
        tokenTimeoutMs: this.#tokenTimeoutMs,
        slidingSessions: this.#slidingSessions,
      }),
    );
  }

  /** Does nothing: Tessera keeps no timers (kept for compatibility). */
  shutdown(): void {}

  /** Does nothing: expiry is absolute time checked on every read (kept for compatibility). */
  decrement_timers(): void {}

  /**
   * Set the token maker; a falsy value restores the default (CSPRNG).
   * @throws TypeError when it is neither a function nor falsy
   */
  set_token_creator(token_creator?: TokenCreator | null): void {
    if (token_creator && typeof token_creator !== 'function') {
      throw new TypeError('token_creator must be a function');
    }
    this.#creator = token_creator || defaultTokenMaker;
  }

  /** Make a token with the token maker. */
  create_token(prefix?: string): string {
    return this.#creator(prefix);
  }

  // ------------------------------------------------------------ helpers

  #sessionRefs(s: string): SessionRef[] {
    return looksLikeId(s) ? [{ token: s }, { id: s }] : [{ token: s }];
  }

  #tokenRefs(t: string): TokenRef[] {
    return looksLikeId(t) ? [{ token: t }, { id: t }] : [{ token: t }];
  }

  async #session(s: string): Promise<SessionInfo | null> {
    if (!isTokenString(s)) return null;
    for (const ref of this.#sessionRefs(s)) {
      const info = await this.sessions.get(ref);
      if (info !== null) return info;
    }
    return null;
  }

  async #token(t: string): Promise<TokenInfo | null> {
    if (!isTokenString(t)) return null;
    for (const ref of this.#tokenRefs(t)) {
      const info = await this.sessions.tokens.get(ref);
      if (info !== null) return info;
    }
    return null;
  }

  /** The owner's most recent live attached session. */
  async #current(owner: string): Promise<SessionInfo | null> {
    let best: SessionInfo | null = null;
    let cursor: string | null = null;
    do {
      const page = await this.sessions.listByOwner(owner, { cursor, limit: 100 });
      for (const s of page.items) {
        if (!s.detached && (best === null || s.createdAt >= best.createdAt)) best = s;
      }
      cursor = page.cursor;
    } while (cursor !== null);
    return best;
  }

  async #ids<T extends { id: string }>(
    list: (o: { cursor: string | null; limit: number }) => Promise<{
      items: readonly T[];
      cursor: string | null;
    }>,
  ): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | null = null;
    do {
      const page = await list({ cursor, limit: 500 });
      out.push(...page.items);
      cursor = page.cursor;
    } while (cursor !== null);
    return out;
  }

  // ------------------------------------------------------------ sessions

  /**
   * Start a session for an owner, optionally with a bound token whose value is
   * the session's hash. Re-adding a live session for the same owner is a no-op.
   * @returns the session's hash (its public id), whatever `shared` says
   * @throws AlreadyExistsError when the token names another owner's live session
   * @throws InvalidInputError (naming the argument) for a token shorter than 22 characters or a bad owner
   */
  async add_session(
    session_token: string,
    ownership_key: string,
    t_token?: string | null,
    _shared?: boolean,
  ): Promise<string> {
    checkTokenArg(session_token, 'session_token');
    checkOwnerArg(ownership_key, 'ownership_key');
    if (t_token) checkTokenArg(t_token, 't_token');
    const hash = await this.db.set_session_key_value(session_token, ownership_key);
    if (t_token) {
      await this.sessions.tokens.add({
        kind: 'bound',
        token: t_token,
        session: { id: hash },
        value: hash,
        timeoutMs: fromMs(this.#tokenTimeoutMs, 'token timeout'),
      });
    }
    return hash;
  }

  /**
   * Whether the session is live, attached and owned by `ownership_key`. The
   * owner is checked first: a call with another owner writes nothing. Counts
   * as activity only for sessions created with `slidingSessions: true` (their
   * idle timeout slides); the seed's lifetime is never extended by it.
   */
  async active_session(session_token: string, ownership_key: string): Promise<boolean> {
    if (!isTokenString(session_token) || !isOwnerString(ownership_key)) return false;
    return (await this.sessions.validate(session_token, { owner: ownership_key })).valid;
  }

  /**
   * Destroy a session (by its token or id, or by a token bound to it): its
   * bound tokens die at once, its transferable tokens become unassigned.
   * @returns whether a live session was ended
   */
  async destroy_session(token: string): Promise<boolean> {
    const session = await this.#session(token);
    if (session !== null) return this.sessions.destroy({ id: session.id });
    const t = await this.#token(token);
    if (t?.sessionId) return this.sessions.destroy({ id: t.sessionId });
    return false;
  }

  /** Allow the session to be detached. Resolves to false when there is no live session. */
  async allow_session_detach(session_token: string): Promise<boolean> {
    const s = await this.#session(session_token);
    return s !== null && orFalse(() => this.sessions.allowDetach({ id: s.id }));
  }

  /**
   * Detach (log out, keep) a session that allows it: listed by
   * `list_detached_sessions`, alive for the detachment timeout, its own
   * countdown paused (as the seed counted only the detachment timer).
   * Resolves to false when there is no live session or detaching is not allowed.
   */
  async detach_session(session_token: string): Promise<boolean> {
    const s = await this.#session(session_token);
    return s !== null && orFalse(() => this.sessions.detach({ id: s.id }));
  }

  /**
   * Attach a detached session again: its countdown resumes with what was left
   * when it was detached (a sliding session gets a fresh idle window).
   * Resolves to false when there is no live session.
   */
  async attach_session(session_token: string): Promise<boolean> {
    const s = await this.#session(session_token);
    return s !== null && orFalse(() => this.sessions.attach({ id: s.id }));
  }

  /**
   * Set the general session timeout in ms (`Infinity`: never) for sessions added later:
   * their lifetime from creation (or idle timeout with `slidingSessions`).
   * @throws InvalidInputError (`timeout`) unless an integer in 1..MAX_TIMEOUT_MS or Infinity
   */
  set_general_session_timeout(timeout: number): void {
    timeoutArg(timeout, 'timeout');
    this.#sessionTimeoutMs = timeout;
  }

  /**
   * Re-arm a session's timeout: it ends `timeout` ms from now (`Infinity`: never,
   * but for the absolute cap), as the seed set allotted and left; a sliding
   * session's idle window restarts now. Resolves to false when there is no live session.
   * @throws InvalidInputError (`timeout`) unless an integer in 1..MAX_TIMEOUT_MS or Infinity
   */
  async set_session_timeout(session_token: string, timeout: number): Promise<boolean> {
    const idleTimeoutMs = timeoutArg(timeout, 'timeout');
    const s = await this.#session(session_token);
    return s !== null && orFalse(() => this.sessions.setTimeouts({ id: s.id }, { idleTimeoutMs }));
  }

  /**
   * A session's timeout in ms, as last set (`Infinity`: never), or `undefined`
   * when there is no live session.
   */
  async get_session_timeout(session_token: string): Promise<number | undefined> {
    const s = await this.#session(session_token);
    return s === null ? undefined : toMs(s.idleTimeoutMs);
  }

  /** Time left in ms (`Infinity`: never ends), or `undefined` when there is no live session. */
  async get_session_time_left(session_token: string): Promise<number | undefined> {
    const s = await this.#session(session_token);
    if (s === null) return undefined;
    return s.expiresAt === null ? Number.POSITIVE_INFINITY : s.expiresAt - this.#clock();
  }

  /**
   * Whether the session is live and owned by `ownership_key` with this hash.
   * State lives in the store, so there is nothing to reload (seed bug 7).
   */
  async reload_session_info(
    session_token: string,
    ownership_key: string,
    hash_of_p2: string,
  ): Promise<boolean> {
    if (!isTokenString(session_token)) return false;
    const s = await this.sessions.get({ token: session_token });
    return s !== null && s.owner === ownership_key && s.id === hash_of_p2;
  }

  // ------------------------------------------------------------ tokens

  /**
   * Add (or overwrite the value of) a plain token. Non-strings are stored as JSON text.
   * @throws InvalidInputError (`t_token`) for a token shorter than 22 characters, (`value`) for a missing value
   */
  async add_token(t_token: string, value: unknown): Promise<void> {
    checkTokenArg(t_token, 't_token');
    await this.db.set_key_value(t_token, asSeedValue(value));
  }

  /** The active token's value (JSON text for non-strings), or `false`. */
  async transition_token_is_active(t_token: string): Promise<string | false> {
    const v = await this.db.get_key_value(t_token);
    return typeof v === 'string' ? v : false;
  }

  /**
   * The owner of an active token (or token id), or of a live session (by its
   * token or id: the seed mapped both to owners), or `""`.
   */
  async from_token(t_token: string): Promise<string> {
    const t = await this.#token(t_token);
    if (t !== null) return t.owner ?? '';
    return (await this.#session(t_token))?.owner ?? '';
  }

  /**
   * Add a transferable token owned by `ownership_key`, carried by their current
   * session (or held by them when they have none: the seed dropped it).
   * @throws InvalidInputError (naming the argument) for a token shorter than 22 characters or a bad owner
   * @throws AlreadyExistsError when an active token has this value
   */
  async add_transferable_token(
    t_token: string,
    value: unknown,
    ownership_key: string,
  ): Promise<void> {
    checkTokenArg(t_token, 't_token');
    checkOwnerArg(ownership_key, 'ownership_key');
    const current = await this.#current(ownership_key);
    await this.sessions.tokens.add({
      kind: 'transferable',
      token: t_token,
      value: asSeedValue(value),
      owner: ownership_key,
      ...(current === null ? {} : { session: { id: current.id } }),
      timeoutMs: fromMs(this.#tokenTimeoutMs, 'token timeout'),
    });
  }

  /**
   * Add a token bound to the owner's current session: it dies with the session.
   * @returns whether it was added: false when the owner has no live attached
   *   session (the seed ignored the call silently)
   * @throws InvalidInputError (naming the argument) for a token shorter than 22 characters or a bad owner
   * @throws AlreadyExistsError when an active token has this value
   */
  async add_session_bounded_token(
    t_token: string,
    value: unknown,
    ownership_key: string,
  ): Promise<boolean> {
    checkTokenArg(t_token, 't_token');
    checkOwnerArg(ownership_key, 'ownership_key');
    const current = await this.#current(ownership_key);
    if (current === null) return false;
    return orFalse(() =>
      this.sessions.tokens.add({
        kind: 'bound',
        token: t_token,
        value: asSeedValue(value),
        session: { id: current.id },
        timeoutMs: fromMs(this.#tokenTimeoutMs, 'token timeout'),
      }),
    );
  }

  /**
   * Acquire a transferable token into `session_token` (a live session of
   * `owner`): allowed when it is unassigned or already `owner`'s.
   * @returns whether it worked (the seed always answered false)
   * @throws InvalidInputError (`owner`) when the owner is not a name
   */
  async acquire_token(t_token: string, session_token: string, owner: string): Promise<boolean> {
    checkOwnerArg(owner, 'owner');
    if (!isTokenString(t_token) || !isTokenString(session_token)) return false;
    const s = await this.sessions.get({ token: session_token });
    if (s === null || s.owner !== owner) return false;
    return orFalse(() => this.sessions.tokens.acquire(t_token, { id: s.id }));
  }

  /** Whether a token (or token id) is an active transferable token. */
  async token_is_transferable(t_token: string): Promise<boolean> {
    return (await this.#token(t_token))?.kind === 'transferable';
  }

  /**
   * Transfer a transferable token from `yielder_key` (falsy: an unassigned
   * token) to `receiver_key`, into the receiver's current session when they
   * have one; keeps sellable state and amount.
   * @returns whether it worked: false for an unknown token, one that is not
   *   transferable, or not the yielder's (as the seed's silent no-op)
   * @throws InvalidInputError (`receiver_key`, `yielder_key`) when an owner is not a name
   */
  async transfer_token(
    t_token: string,
    yielder_key: string | null | undefined,
    receiver_key: string,
  ): Promise<boolean> {
    if (yielder_key) checkOwnerArg(yielder_key, 'yielder_key');
    checkOwnerArg(receiver_key, 'receiver_key');
    const t = await this.#token(t_token);
    if (t === null) return false;
    return orFalse(async () => {
      const current = await this.#current(receiver_key);
      await this.sessions.tokens.transfer(
        { id: t.id },
        {
          from: yielder_key || null,
          to: receiver_key,
          ...(current === null ? {} : { toSession: { id: current.id } }),
        },
      );
    });
  }

  /** Destroy a token (or token id). Resolves to whether an active one was destroyed. */
  async destroy_token(t_token: string): Promise<boolean> {
    const t = await this.#token(t_token);
    return t !== null && this.sessions.tokens.destroy({ id: t.id });
  }

  /**
   * Set the general token timeout in ms (`Infinity`: never) for tokens added later.
   * @throws InvalidInputError (`timeout`) unless an integer in 1..MAX_TIMEOUT_MS or Infinity
   */
  set_general_token_timeout(timeout: number): void {
    timeoutArg(timeout, 'timeout');
    this.#tokenTimeoutMs = timeout;
  }

  /**
   * Set how long a transferable token may stay unassigned, in ms. Resolves to
   * whether it worked (false for an unknown or non-transferable token).
   * @throws InvalidInputError (`timeout`) unless an integer in 1..MAX_TIMEOUT_MS (an unassigned token cannot wait forever)
   */
  async set_disownment_token_timeout(t_token: string, timeout: number): Promise<boolean> {
    const ms = timeoutArg(timeout, 'timeout', false) as number;
    const t = await this.#token(t_token);
    return t !== null && orFalse(() => this.sessions.tokens.setDisownmentTimeout({ id: t.id }, ms));
  }

  /**
   * Set a token's timeout in ms from now (`Infinity`: never). Resolves to whether it worked.
   * @throws InvalidInputError (`timeout`) unless an integer in 1..MAX_TIMEOUT_MS or Infinity
   */
  async set_token_timeout(t_token: string, timeout: number): Promise<boolean> {
    const ms = timeoutArg(timeout, 'timeout');
    const t = await this.#token(t_token);
    return t !== null && orFalse(() => this.sessions.tokens.setTimeout({ id: t.id }, ms));
  }

  /** A token's own timeout in ms (`Infinity`: none), or `undefined` when it is not active. */
  async get_token_timeout(t_token: string): Promise<number | undefined> {
    const t = await this.#token(t_token);
    return t === null ? undefined : toMs(t.timeoutMs);
  }

  /**
   * Time left in ms (`Infinity`: no end), or `undefined` when it is not active.
   * A bound or carried token's time is also bounded by its session's.
   */
  async get_token_time_left(t_token: string): Promise<number | undefined> {
    const t = await this.#token(t_token);
    if (t === null) return undefined;
    let end = t.expiresAt ?? Number.POSITIVE_INFINITY;
    if (t.kind === 'bound' && t.sessionId !== null) {
      const s = await this.sessions.get({ id: t.sessionId });
      end = Math.min(end, s?.expiresAt ?? Number.POSITIVE_INFINITY);
    }
    return end === Number.POSITIVE_INFINITY ? end : end - this.#clock();
  }

  /**
   * Mark a transferable token sellable, with an optional amount (positive or
   * negative). Resolves to whether it worked (false for an unknown or
   * non-transferable token).
   * @throws InvalidInputError (`amount`) when the amount is given but not a finite number
   */
  async set_token_sellable(t_token: string, amount?: number | null): Promise<boolean> {
    if (amount !== undefined && amount !== null) checkAmountArg(amount, 'amount');
    const t = await this.#token(t_token);
    if (t === null) return false;
    const options = amount === undefined || amount === null ? {} : { price: amount };
    return orFalse(() => this.sessions.tokens.setSellable({ id: t.id }, options));
  }

  /** Mark a transferable token not sellable (its amount is kept). */
  async unset_token_sellable(t_token: string): Promise<boolean> {
    const t = await this.#token(t_token);
    return t !== null && orFalse(() => this.sessions.tokens.unsetSellable({ id: t.id }));
  }

  /** Does nothing: token state lives in the store (seed bug 7). */
  async reload_token_info(_t_token: string): Promise<void> {}

  // ------------------------------------------------------------ listings (ids)

  /** Ids of the transferable tokens a live session carries (the seed's spelling). */
  async list_tranferable_tokens(session_token: string): Promise<string[]> {
    const s = await this.#session(session_token);
    if (s === null) return [];
    const items = await this.#ids((o) =>
      this.sessions.tokens.listBySession({ id: s.id }, { ...o, kind: 'transferable' }),
    );
    return items.map((t) => t.id);
  }

  /** Alias with the correct spelling. */
  list_transferable_tokens(session_token: string): Promise<string[]> {
    return this.list_tranferable_tokens(session_token);
  }

  /** Ids of the sellable tokens. */
  async list_sellable_tokens(): Promise<string[]> {
    return (await this.#ids((o) => this.sessions.tokens.listSellable(o))).map((t) => t.id);
  }

  /** Sellable token ids with their amounts (`undefined` when none was given). */
  async map_sellable_tokens(): Promise<Record<string, number | undefined>> {
    const out: Record<string, number | undefined> = {};
    for (const t of await this.#ids((o) => this.sessions.tokens.listSellable(o))) {
      out[t.id] = t.price ?? undefined;
    }
    return out;
  }

  /**
   * Ids of the unassigned tokens still within their disownment timeout, sorted.
   * Tokens of sessions that merely timed out are included, as the seed's
   * in-memory listing would have them: computed on read (their session's end
   * plus the disownment timeout), so listing writes nothing, and the answer is
   * the same whether or not `sessions.collect()` has released them meanwhile.
   * Reads what a `collect` would: the sessions carrying tokens, then the
   * tokens of the ended ones.
   */
  async list_unassigned_tokens(): Promise<string[]> {
    // Unreleased first: a token released in between then shows in the released listing.
    const unreleased = await listUnreleasedUnassigned(this.sessions);
    const released = await this.#ids((o) => this.sessions.tokens.listUnassigned(o));
    return [...new Set([...unreleased, ...released].map((t) => t.id))].sort();
  }

  /** Ids of the detached sessions still alive. */
  async list_detached_sessions(): Promise<string[]> {
    return (await this.#ids((o) => this.sessions.listDetached(o))).map((s) => s.id);
  }
}
