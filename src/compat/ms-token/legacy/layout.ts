/**
 * ms-token 5's Redis key layout (BEHAVIOUR.md §4.4), to find and delete the
 * challenges ms-token wrote. Parts are joined with `!` after dropping empty
 * ones, behind the prefix:
 * - `P action!id`: the challenge (a hash);
 * - `P -!-!uid!<uid>`: a copy, for lookups by uid (with `regenerate`);
 * - `P action!id!secret!<raw secret>`: a copy named after the secret;
 * - `P action!id!throttle`: the throttle window of `create` (a string with a TTL).
 *
 * The facade only reads and deletes these keys: it never creates a key
 * named after a secret.
 * @module
 */

/** The prefix ms-token 5.0.1 uses when none is given: `{ms-token!<package version>}`. */
export const MS_TOKEN_DEFAULT_PREFIX = '{ms-token!5.0.1}';

/** Key names of one ms-token prefix. */
export interface LegacyLayout {
  /** The prefix, as given. */
  readonly prefix: string;
  /** `P action!id`. */
  idKey(action: string, id: string): string;
  /** `P -!-!uid!<uid>`. */
  uidKey(uid: string): string;
  /** `P action!id!secret!<secret>` (names an existing key; never written by the facade). */
  secretKey(action: string, id: string, secret: string): string;
  /** `P action!id!throttle`. */
  throttleKey(action: string, id: string): string;
}

/**
 * The key names ms-token 5 uses under `prefix`.
 * @param prefix - ms-token's `backend.prefix` (default {@link MS_TOKEN_DEFAULT_PREFIX})
 * @example `legacyLayout('{ms-token!5.0.1}').idKey('register', 'a@b.c') // '{ms-token!5.0.1}register!a@b.c'`
 */
export function legacyLayout(prefix: string = MS_TOKEN_DEFAULT_PREFIX): LegacyLayout {
  const key = (...parts: string[]) => prefix + parts.filter((p) => p !== '').join('!');
  return Object.freeze({
    prefix,
    idKey: (action: string, id: string) => key(action, id),
    uidKey: (uid: string) => key('-', '-', 'uid', uid),
    secretKey: (action: string, id: string, secret: string) => key(action, id, 'secret', secret),
    throttleKey: (action: string, id: string) => key(action, id, 'throttle'),
  });
}

/**
 * Whether every key under `prefix` falls in one Redis Cluster slot: the
 * prefix holds a hash tag (a `{`, later a `}`, something between). ms-token's
 * scripts touch several keys, so on a cluster it only ever worked with such a
 * prefix (its default has one).
 * @example `sharesSlot('{ms-token!5.0.1}') // true; sharesSlot('ms-token:') // false`
 */
export function sharesSlot(prefix: string): boolean {
  const open = prefix.indexOf('{');
  if (open < 0) return false;
  const close = prefix.indexOf('}', open + 1);
  return close > open + 1;
}
