/**
 * The seed's `DB` interface, implemented over a Tessera store: code that
 * calls `set_session_key_value`, `get_key_value`... directly keeps working,
 * and sees the same sessions and tokens as a `TokenTables` over that store.
 * @module
 */
import { isTesseraError } from '../../core/errors.js';
import type { Sessions } from '../../sessions/index.js';
import type { Store } from '../../stores/contract.js';
import { checkOwnerArg, checkTokenArg, isTokenString } from './checks.js';
import {
  asSeedValue,
  facadeDefaults,
  fromMs,
  looksLikeId,
  nativeSessions,
  type TokenTablesOptions,
} from './options.js';

/**
 * The seed's DB interface (`Hash`, `SessionToken`, `TransitionToken` and `Ucwid`
 * are strings). Every method returns a promise here (the seed typed some as
 * synchronous; `await` works on both).
 */
export interface DB {
  /**
   * Create a session for `ownership_key` under `session_token`; resolves to its hash (public id).
   * @throws InvalidInputError (naming the argument) for a token shorter than 22 characters or a bad owner
   */
  set_session_key_value(session_token: string, ownership_key: string): Promise<string>;
  /** Destroy the session; resolves to whether a live one was ended (false for anything that is not a session token). */
  del_session_key_value(session_token: string): Promise<boolean>;
  /**
   * Set a transition token's value (creating a plain token when there is none).
   * @throws InvalidInputError (`t_token`) for a token shorter than 22 characters, (`value`) for a missing value
   */
  set_key_value(t_token: string, value: string): Promise<void>;
  /** The active token's value, or `false`. */
  get_key_value(t_token: string): Promise<string | boolean>;
  /** Destroy a transition token (nothing to do for anything that is not a token). */
  del_key_value(t_token: string): Promise<void>;
  /** Whether `hh_unidentified` is the hash (public id) of a live session of `ownership_key`. */
  check_hash(hh_unidentified: string, ownership_key: string): Promise<boolean>;
}

interface Backing {
  readonly store: Store;
  readonly sessions: Sessions;
  readonly options: TokenTablesOptions;
}

const backings = new WeakMap<object, Backing>();

/** The native API behind a DB made by {@link createSeedDb}, if it is one. */
export function backingOf(db: unknown): Backing | undefined {
  return typeof db === 'object' && db !== null ? backings.get(db) : undefined;
}

/**
 * Build the DB adapter over a native API. `defaults` gives the current
 * general timeouts (the facade's can change at run time).
 */
export function seedDbOver(
  backing: Backing,
  defaults: () => { sessionTimeoutMs: number; tokenTimeoutMs: number; slidingSessions: boolean },
): DB {
  const { sessions } = backing;
  const db: DB = Object.freeze({
    async set_session_key_value(session_token: string, ownership_key: string) {
      checkTokenArg(session_token, 'session_token');
      checkOwnerArg(ownership_key, 'ownership_key');
      try {
        const { sessionTimeoutMs, slidingSessions } = defaults();
        const { session } = await sessions.create({
          owner: ownership_key,
          token: session_token,
          idleTimeoutMs: fromMs(sessionTimeoutMs, 'session timeout'),
          sliding: slidingSessions,
        });
        return session.id;
      } catch (err) {
        if (!isTesseraError(err, 'ERR_TESSERA_ALREADY_EXISTS')) throw err;
        const live = await sessions.get({ token: session_token });
        if (live === null || live.owner !== ownership_key) throw err;
        return live.id;
      }
    },
    async del_session_key_value(session_token: string) {
      if (!isTokenString(session_token)) return false;
      return sessions.destroy({ token: session_token });
    },
    async set_key_value(t_token: string, value: string) {
      checkTokenArg(t_token, 't_token');
      const v = asSeedValue(value);
      // The last write wins, as in the seed: a concurrent add or destroy between
      // the read and the write sends the write the other way.
      let exists = (await sessions.tokens.get({ token: t_token })) !== null;
      for (let i = 0; ; i++) {
        try {
          if (exists) {
            await sessions.tokens.setValue({ token: t_token }, v);
          } else {
            await sessions.tokens.add({
              token: t_token,
              value: v,
              timeoutMs: fromMs(defaults().tokenTimeoutMs, 'token timeout'),
            });
          }
          return;
        } catch (err) {
          const raced = exists
            ? isTesseraError(err, 'ERR_TESSERA_NOT_FOUND')
            : isTesseraError(err, 'ERR_TESSERA_ALREADY_EXISTS');
          if (!raced || i >= 3) throw err;
          exists = !exists;
        }
      }
    },
    async get_key_value(t_token: string) {
      if (!isTokenString(t_token)) return false;
      const r = await sessions.tokens.check(t_token);
      return r.active ? asSeedValue(r.value) : false;
    },
    async del_key_value(t_token: string) {
      if (!isTokenString(t_token)) return;
      await sessions.tokens.destroy({ token: t_token });
    },
    async check_hash(hh_unidentified: string, ownership_key: string) {
      if (!looksLikeId(hh_unidentified)) return false;
      const s = await sessions.get({ id: hh_unidentified });
      return s !== null && s.owner === ownership_key;
    },
  });
  backings.set(db, backing);
  return db;
}

/**
 * The seed's DB interface over a Tessera store, for code that calls it
 * directly. Pass it to `new TokenTables(db)` and both see the same data.
 * `set_session_key_value` creates sessions with the seed's lifetime (the
 * session timeout counted from creation, never extended by activity) unless
 * `slidingSessions` is set.
 *
 * @param store - a migrated Tessera store
 * @param options - clock, keyring, collections and defaults (ms; see {@link TokenTablesOptions})
 * @returns a frozen {@link DB}
 * @throws TypeError / RangeError for bad options
 * @example
 * ```ts
 * const db = createSeedDb(store);
 * const hash = await db.set_session_key_value(sessionToken, 'user-1');
 * await db.check_hash(hash, 'user-1'); // true
 * const tables = new TokenTables(db);
 * ```
 */
export function createSeedDb(store: Store, options: TokenTablesOptions = {}): DB {
  const defaults = facadeDefaults(options);
  const sessions = nativeSessions(store, options);
  return seedDbOver({ store, sessions, options }, () => defaults);
}
