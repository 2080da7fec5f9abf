/**
 * Internal: the public id of a session or transition token, which is also the
 * key its record is stored under. Without a keyring: SHA-256 of the token's
 * UTF-8 bytes, base64url. With one: the keyring hasher's digest
 * (`createHmacHasher(keyring, 'sessions').digest([label, token], keyId)`),
 * for the active key id first and then every other one.
 *
 * This runs on every `validate` and `check`, so the work that does not depend
 * on the token is done once here: the HKDF subkeys are derived at
 * construction and the length-prefixed label is encoded once. The digests are
 * byte for byte those of `createHmacHasher` (a test holds them equal).
 * @module
 */
import * as crypto from 'node:crypto';
import type { Keyring } from '../core/keyring.js';

/** Candidate ids of a token, the active key's first. */
export type IdsOf = (token: string) => string[];

/** The HMAC hasher's purpose for session records (see `createHmacHasher`). */
const PURPOSE = 'sessions';

// `crypto.hash` (Node >= 20.12) hashes a short string several times faster than
// `createHash`, which builds a Hash object per call.
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'base64url') => string }).hash;

/** SHA-256 of the token's UTF-8 bytes, base64url. */
export function sha256Id(token: string): string {
  if (oneShot !== undefined) return oneShot('sha256', token, 'base64url');
  return crypto.createHash('sha256').update(token, 'utf8').digest('base64url');
}

/** `uint32be(byteLength) || utf8(label)`: the first part of the length-prefixed input. */
function encodeLabel(label: string): Buffer {
  const bytes = Buffer.from(label, 'utf8');
  const out = Buffer.alloc(4 + bytes.length);
  out.writeUInt32BE(bytes.length, 0);
  bytes.copy(out, 4);
  return out;
}

/**
 * The id function for a label (`session-token` or `transition-token`).
 * @param keyring - when given, ids are HMAC digests under each of its keys
 */
export function createIdsOf(keyring: Keyring | undefined, label: string): IdsOf {
  if (keyring === undefined) return (token) => [sha256Id(token)];
  const order = [keyring.activeId, ...keyring.ids.filter((id) => id !== keyring.activeId)];
  const keys = order.map((id) =>
    crypto.createSecretKey(keyring.deriveKey(`${PURPOSE}.digest`, id)),
  );
  const head = encodeLabel(label);
  const digest = (key: crypto.KeyObject, token: string): string => {
    const bytes = Buffer.from(token, 'utf8');
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(bytes.length, 0);
    return crypto
      .createHmac('sha256', key)
      .update(head)
      .update(length)
      .update(bytes)
      .digest('base64url');
  };
  if (keys.length === 1) {
    const only = keys[0] as crypto.KeyObject;
    return (token) => [digest(only, token)];
  }
  return (token) => keys.map((key) => digest(key, token));
}
