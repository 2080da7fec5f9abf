/**
 * Sealed (encrypted and authenticated) tokens for challenge data, with key ids
 * for rotation. AES-256-GCM, 12-byte random IV, 16-byte tag, key =
 * `keyring.deriveKey(purpose, keyId)`.
 *
 * Token format: `v1.<keyId>.<base64url(iv || ciphertext || tag)>` (unpadded,
 * canonical base64url). The header `v1.<keyId>` and the caller's `aad` are
 * bound as associated data, so a token cannot be moved to another key id,
 * version or context without failing to open.
 *
 * @example
 * ```ts
 * const sealer = createSealer({ keyring });
 * const token = sealer.seal(JSON.stringify({ userId, exp }), 'challenge');
 * const data = JSON.parse(sealer.openString(token, 'challenge'));
 * ```
 * @module
 */

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { decodeBase64url } from './encoding/base64url.js';
import { encodeLengthPrefixed } from './encoding/length-prefixed.js';
import { SealInvalidError } from './errors.js';
import { KEY_ID_PATTERN, type Keyring } from './keyring.js';

/** Largest sealed token accepted or produced, in characters (64 KiB). */
export const MAX_SEALED_TOKEN_LENGTH = 64 * 1024;

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const AAD_LABEL = 'tessera.seal';

/** Options of {@link createSealer}. */
export interface SealerOptions {
  /** Server keys; sealing uses the active key, opening accepts any listed key. */
  keyring: Keyring;
  /** HKDF purpose of the encryption key, 1..255 characters (default `'seal'`). */
  purpose?: string;
}

/** Seals and opens tokens under a keyring. */
export interface Sealer {
  /**
   * Encrypt `plaintext` (UTF-8 when a string) under the active key.
   * @param aad - context the token is bound to (default `''`; `undefined` and `''` are the same)
   * @returns `v1.<keyId>.<base64url>`
   * @throws RangeError when the token would exceed 64 KiB
   * @throws TypeError when `plaintext` or `aad` has the wrong type
   */
  seal(plaintext: string | Uint8Array, aad?: string): string;
  /**
   * Decrypt a token sealed under any listed key, with the same `aad`.
   * @throws SealInvalidError (`ERR_TESSERA_SEAL_INVALID`) on any failure
   */
  open(token: string, aad?: string): Buffer;
  /**
   * {@link Sealer.open}, decoded as UTF-8.
   * @throws SealInvalidError (`ERR_TESSERA_SEAL_INVALID`) on any failure, including invalid UTF-8
   */
  openString(token: string, aad?: string): string;
}

function associatedData(header: string, aad: string): Buffer {
  return encodeLengthPrefixed([AAD_LABEL, header, aad]);
}

/**
 * Create a sealer bound to a keyring and purpose.
 *
 * `open` throws {@link SealInvalidError} for every failure: not a string,
 * longer than 64 KiB, not three dot-separated parts, unknown version, unknown
 * key id, non-canonical base64url, shorter than IV + tag, wrong `aad`, or a
 * tag mismatch (tampering, wrong key). It never throws a raw crypto error.
 *
 * @param options - `keyring` (required) and `purpose` (default `'seal'`)
 * @returns a frozen {@link Sealer}
 * @throws TypeError when `keyring` is not a keyring or `purpose` is not a 1..255 character string
 * @example
 * ```ts
 * const sealer = createSealer({ keyring, purpose: 'challenge' });
 * const token = sealer.seal('{"sub":"u1"}', 'login');
 * sealer.openString(token, 'login'); // '{"sub":"u1"}'
 * ```
 */
export function createSealer(options: SealerOptions): Sealer {
  const keyring = options?.keyring;
  const purpose = options?.purpose ?? 'seal';
  if (typeof keyring !== 'object' || keyring === null || typeof keyring.deriveKey !== 'function') {
    throw new TypeError('keyring must be a Keyring (see createKeyring)');
  }
  if (typeof purpose !== 'string' || purpose.length < 1 || purpose.length > 255) {
    throw new TypeError('purpose must be a string of 1..255 characters');
  }

  function checkAad(aad: unknown): string {
    if (aad === undefined) return '';
    if (typeof aad !== 'string') throw new TypeError('aad must be a string');
    return aad;
  }

  function seal(plaintext: string | Uint8Array, aad?: string): string {
    let data: Buffer;
    if (typeof plaintext === 'string') data = Buffer.from(plaintext, 'utf8');
    else if (plaintext instanceof Uint8Array) data = Buffer.from(plaintext);
    else throw new TypeError('plaintext must be a string or a Uint8Array');
    const context = checkAad(aad);
    const keyId = keyring.activeId;
    const header = `${VERSION}.${keyId}`;
    const bodyChars = Math.ceil(((IV_BYTES + data.length + TAG_BYTES) * 4) / 3);
    if (header.length + 1 + bodyChars > MAX_SEALED_TOKEN_LENGTH) {
      throw new RangeError('plaintext is too large to seal (token limit 64 KiB)');
    }
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', keyring.deriveKey(purpose, keyId), iv, {
      authTagLength: TAG_BYTES,
    });
    cipher.setAAD(associatedData(header, context));
    const body = Buffer.concat([iv, cipher.update(data), cipher.final(), cipher.getAuthTag()]);
    return `${header}.${body.toString('base64url')}`;
  }

  function open(token: string, aad?: string): Buffer {
    try {
      const context = checkAad(aad);
      if (typeof token !== 'string') throw new TypeError('token must be a string');
      if (token.length > MAX_SEALED_TOKEN_LENGTH) throw new RangeError('token is too long');
      const parts = token.split('.');
      if (parts.length !== 3) throw new SealInvalidError('Sealed value is malformed.');
      const [version, keyId, encoded] = parts as [string, string, string];
      if (version !== VERSION) throw new SealInvalidError('Sealed value has an unknown version.');
      if (!KEY_ID_PATTERN.test(keyId)) throw new SealInvalidError('Sealed value is malformed.');
      const body = decodeBase64url(encoded);
      if (body.length < IV_BYTES + TAG_BYTES) {
        throw new SealInvalidError('Sealed value is too short.');
      }
      const key = keyring.deriveKey(purpose, keyId);
      const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(associatedData(`${version}.${keyId}`, context));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch (err) {
      if (err instanceof SealInvalidError) throw err;
      throw new SealInvalidError('Sealed value is invalid.', { cause: err });
    }
  }

  function openString(token: string, aad?: string): string {
    const bytes = open(token, aad);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch (err) {
      throw new SealInvalidError('Sealed value is not valid UTF-8.', { cause: err });
    }
  }

  return Object.freeze({ seal, open, openString });
}
