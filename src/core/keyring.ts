/**
 * Server secrets with key ids, for rotation. A keyring holds one or more
 * secrets; new values are hashed or sealed under the active key, and values
 * written under any listed key still verify. Subkeys are derived per
 * (key id, purpose) with HKDF-SHA-256 so one secret never serves two uses.
 *
 * @example
 * ```ts
 * const keyring = createKeyring({
 *   keys: [{ id: '2026-02', secret: process.env.KEY_NEW! }, { id: '2025-11', secret: process.env.KEY_OLD! }],
 * });
 * const macKey = keyring.deriveKey('hash'); // 32 bytes, under '2026-02'
 * ```
 * @module
 */

import { hkdfSync } from 'node:crypto';
import { decodeBase64url, isCanonicalBase64url } from './encoding/base64url.js';
import { KeyNotFoundError } from './errors.js';
import { randomSecret } from './random.js';

/** Pattern every key id must match: 1..32 characters of `A-Za-z0-9_-`. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** Minimum secret size in bytes (256 bits). */
export const MIN_SECRET_BYTES = 32;

const HKDF_SALT = 'tessera';
const SUBKEY_BYTES = 32;

/** One server secret and its id. */
export interface KeyringKey {
  /** Key id, 1..32 characters of `A-Za-z0-9_-`; written next to every value it protects. */
  id: string;
  /**
   * The secret, at least 32 bytes. A string that is canonical unpadded base64url
   * of >= 32 bytes (as {@link generateServerSecret} returns) is decoded; any
   * other string is used as its UTF-8 bytes.
   */
  secret: string | Uint8Array;
}

/** Options of {@link createKeyring}. */
export interface KeyringOptions {
  /** The keys, at least one, ids unique. */
  keys: readonly KeyringKey[];
  /** Id of the key new values are written under (default: the first key). */
  activeId?: string;
}

/** A frozen set of server secrets. Secrets are not reachable from the object. */
export interface Keyring {
  /** Id of the key new values are written under. */
  readonly activeId: string;
  /** Every key id, in configuration order. */
  readonly ids: readonly string[];
  /**
   * 32-byte subkey for `purpose` under key `id`: HKDF-SHA-256 with salt
   * `'tessera'` and info = `purpose` (UTF-8). Cached; each call returns a fresh copy.
   *
   * @param purpose - domain-separation label, 1..255 characters (e.g. `'hash'`, `'seal'`)
   * @param id - key id (default: `activeId`)
   * @throws KeyNotFoundError (`ERR_TESSERA_KEY_NOT_FOUND`) when `id` is not listed
   * @throws TypeError when `purpose` is not a 1..255 character string
   */
  deriveKey(purpose: string, id?: string): Buffer;
}

function secretBytes(id: string, secret: unknown): Buffer {
  let bytes: Buffer;
  if (typeof secret === 'string') {
    bytes =
      secret.length >= 43 && isCanonicalBase64url(secret)
        ? decodeBase64url(secret)
        : Buffer.from(secret, 'utf8');
  } else if (secret instanceof Uint8Array) {
    bytes = Buffer.from(secret);
  } else {
    throw new TypeError(`secret of key "${id}" must be a string or a Uint8Array`);
  }
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new RangeError(`secret of key "${id}" must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return bytes;
}

/**
 * Create a keyring from server secrets.
 *
 * A string secret that is canonical unpadded base64url decoding to at least
 * 32 bytes (43+ characters, as {@link generateServerSecret} produces) is used
 * as the decoded bytes; any other string is used as its UTF-8 bytes and must
 * then be at least 32 bytes long. Prefer generated secrets: a passphrase has
 * far less entropy than its length suggests.
 *
 * @param options - `keys` (at least one, unique ids) and `activeId` (default: first key's id)
 * @returns a frozen {@link Keyring}
 * @throws TypeError when `options`, `keys`, an id or a secret has the wrong type
 * @throws RangeError when `keys` is empty, an id does not match {@link KEY_ID_PATTERN}, ids
 *   repeat, a secret is shorter than 32 bytes, or `activeId` is not listed
 * @example
 * ```ts
 * const keyring = createKeyring({ keys: [{ id: 'k1', secret: generateServerSecret() }] });
 * keyring.deriveKey('seal', 'k1').length; // 32
 * ```
 */
export function createKeyring(options: KeyringOptions): Keyring {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('options must be an object');
  }
  const { keys, activeId } = options;
  if (!Array.isArray(keys)) throw new TypeError('keys must be an array');
  if (keys.length === 0) throw new RangeError('keys must contain at least one key');
  const secrets = new Map<string, Buffer>();
  for (const key of keys as readonly KeyringKey[]) {
    if (typeof key !== 'object' || key === null) throw new TypeError('each key must be an object');
    if (typeof key.id !== 'string') throw new TypeError('key id must be a string');
    if (!KEY_ID_PATTERN.test(key.id)) {
      throw new RangeError('key id must be 1..32 characters of A-Za-z0-9_-');
    }
    if (secrets.has(key.id)) throw new RangeError(`key id "${key.id}" is listed twice`);
    secrets.set(key.id, secretBytes(key.id, key.secret));
  }
  const ids = Object.freeze([...secrets.keys()]);
  const active = activeId ?? ids[0]!;
  if (typeof active !== 'string') throw new TypeError('activeId must be a string');
  if (!secrets.has(active)) throw new RangeError(`activeId "${active}" is not a listed key id`);

  const cache = new Map<string, Buffer>();
  function deriveKey(purpose: string, id: string = active): Buffer {
    if (typeof purpose !== 'string' || purpose.length < 1 || purpose.length > 255) {
      throw new TypeError('purpose must be a string of 1..255 characters');
    }
    const secret = typeof id === 'string' ? secrets.get(id) : undefined;
    if (secret === undefined) throw new KeyNotFoundError('No key with this key id.');
    const cacheKey = `${id}\u0000${purpose}`;
    let subkey = cache.get(cacheKey);
    if (subkey === undefined) {
      subkey = Buffer.from(hkdfSync('sha256', secret, HKDF_SALT, purpose, SUBKEY_BYTES));
      cache.set(cacheKey, subkey);
    }
    return Buffer.from(subkey);
  }

  return Object.freeze({ activeId: active, ids, deriveKey });
}

/**
 * A new server secret: 32 random bytes as unpadded base64url (43 characters),
 * suitable for {@link KeyringKey.secret}.
 *
 * @returns 43 characters of `A-Za-z0-9_-`
 * @example
 * ```ts
 * const secret = generateServerSecret(); // store it in your secret manager
 * const keyring = createKeyring({ keys: [{ id: '2026-02', secret }] });
 * ```
 */
export function generateServerSecret(): string {
  return randomSecret(32);
}
