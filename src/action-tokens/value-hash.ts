/**
 * The HMAC digests of action-token values, computed on the hot path of every
 * `use()`. They equal `createHmacHasher(keyring, purpose).digest(parts, kid)`
 * byte for byte (same HKDF subkey, same length-prefixed encoding), but import
 * each subkey once as a `KeyObject` and encode the parts into one reused
 * buffer instead of one allocation per part.
 * @module
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import type { Keyring } from '../core/keyring.js';

/** Digests bound to one keyring and purpose. */
export interface ValueHasher {
  /**
   * Unpadded base64url HMAC-SHA-256 of the length-prefixed UTF-8 encoding of
   * `parts` under key `kid` (default: the active key).
   * @throws KeyNotFoundError (`ERR_TESSERA_KEY_NOT_FOUND`) when `kid` is not listed
   */
  digest(parts: readonly string[], kid?: string): string;
  /** {@link ValueHasher.digest} under every key id, the active key first. */
  digestAll(parts: readonly string[]): string[];
  /**
   * A digest whose first part is always `tag`: `tagged(tag)(parts, kid)`
   * equals `digest([tag, ...parts], kid)`, with the tag encoded once instead
   * of on every call.
   */
  tagged(tag: string): (parts: readonly string[], kid?: string) => string;
}

/** Grown on demand; parts are at most a few KiB (values 1024 characters, names 256). */
let scratch = Buffer.allocUnsafe(4096);

/** Largest number of bytes `parts` can take, length prefixes included. */
function bound(parts: readonly string[]): number {
  let n = 0;
  for (const p of parts) n += 4 + 3 * p.length;
  return n;
}

/**
 * Write `parts` into `buf` from `offset` as `uint32be(byteLength) || utf8(part)`
 * each (`buf` holds at least {@link bound} more bytes); returns the end offset.
 */
function writeParts(buf: Buffer, offset: number, parts: readonly string[]): number {
  let at = offset;
  for (const p of parts) {
    const n = buf.write(p, at + 4, 'utf8');
    buf.writeUInt32BE(n, at);
    at += 4 + n;
  }
  return at;
}

/** Write `parts` into the shared scratch buffer; returns the length written. */
function encodeInto(parts: readonly string[]): number {
  const n = bound(parts);
  if (n > scratch.length) scratch = Buffer.allocUnsafe(n);
  return writeParts(scratch, 0, parts);
}

/**
 * Create a {@link ValueHasher}: subkeys `keyring.deriveKey(purpose + '.digest', kid)`,
 * imported once per key id.
 *
 * @param keyring - the server keys
 * @param purpose - the hasher purpose (the same as given to `createHmacHasher`)
 * @example
 * ```ts
 * const hasher = createValueHasher(keyring, 'action-tokens');
 * hasher.digest(['action-token', owner, action, value]);
 * ```
 */
export function createValueHasher(keyring: Keyring, purpose: string): ValueHasher {
  const digestPurpose = `${purpose}.digest`;
  const keys = new Map<string, KeyObject>();
  const keyFor = (kid: string): KeyObject => {
    let key = keys.get(kid);
    if (key === undefined) {
      // deriveKey throws KeyNotFoundError for an unknown id, so nothing unknown is cached.
      key = createSecretKey(keyring.deriveKey(digestPurpose, kid));
      keys.set(kid, key);
    }
    return key;
  };
  const digest = (parts: readonly string[], kid: string = keyring.activeId): string => {
    const key = keyFor(kid);
    const n = encodeInto(parts);
    return createHmac('sha256', key).update(scratch.subarray(0, n)).digest('base64url');
  };
  const tagged = (tag: string) => {
    // The tag's encoding stays at the start of this buffer; only the other parts are written.
    let buf = Buffer.allocUnsafe(4096 + bound([tag]));
    const start = writeParts(buf, 0, [tag]);
    return (parts: readonly string[], kid: string = keyring.activeId): string => {
      const key = keyFor(kid);
      const need = start + bound(parts);
      if (need > buf.length) {
        const grown = Buffer.allocUnsafe(need);
        buf.copy(grown, 0, 0, start);
        buf = grown;
      }
      const n = writeParts(buf, start, parts);
      return createHmac('sha256', key).update(buf.subarray(0, n)).digest('base64url');
    };
  };
  return Object.freeze({
    digest,
    digestAll(parts: readonly string[]): string[] {
      const ids = [keyring.activeId, ...keyring.ids.filter((id) => id !== keyring.activeId)];
      return ids.map((kid) => digest(parts, kid));
    },
    tagged,
  });
}
