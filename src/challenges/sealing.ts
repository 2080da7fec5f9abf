/**
 * The sealed challenge token: AES-256-GCM through `core/aead` (format
 * `v1.<keyId>.<base64url(iv || ciphertext || tag)>`, key ids for rotation),
 * bound to the associated data `tessera.challenge`. The payload carries the
 * action, id, uid, the secret, and the challenge instance and generation it
 * was issued for, so a token stops working once its challenge is
 * regenerated or re-created.
 * @module
 */
import { createSealer } from '../core/aead.js';
import { SealInvalidError } from '../core/errors.js';
import type { Keyring } from '../core/keyring.js';

/** What a sealed challenge token carries. */
export interface TokenPayload {
  readonly action: string;
  readonly id: string;
  /** The uid, or `null` when the challenge was created without `regenerate`. */
  readonly uid: string | null;
  /** The plain secret. */
  readonly secret: string;
  /** The challenge instance (random per `create`). */
  readonly instance: string;
  /** The generation (+1 per `regenerate`). */
  readonly generation: number;
}

/** Seals and opens challenge tokens. */
export interface TokenCodec {
  /** Seal a payload under the keyring's active key. */
  seal(payload: TokenPayload): string;
  /**
   * Open a token sealed under any listed key.
   * @throws SealInvalidError (`ERR_TESSERA_SEAL_INVALID`) when it is malformed, tampered, or under an unknown key
   */
  open(token: string): TokenPayload;
}

const PURPOSE = 'challenges.seal';
const AAD = 'tessera.challenge';
const PAYLOAD_VERSION = 1;

/** Whether `token` has the shape of a Tessera sealed token (`v1.<keyId>.<base64url>`). */
export function looksSealed(token: string): boolean {
  return /^v1\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]+$/.test(token);
}

/**
 * Create the token codec over a keyring.
 *
 * @param keyring - server keys (sealing uses the active key, opening accepts any listed key)
 * @returns a frozen {@link TokenCodec}
 * @throws TypeError when `keyring` is not a keyring
 * @example
 * ```ts
 * const codec = createTokenCodec(keyring);
 * const token = codec.seal({ action: 'register', id: 'a@b.c', uid: null, secret, instance, generation: 1 });
 * codec.open(token).id; // 'a@b.c'
 * ```
 */
export function createTokenCodec(keyring: Keyring): TokenCodec {
  const sealer = createSealer({ keyring, purpose: PURPOSE });

  function seal(p: TokenPayload): string {
    return sealer.seal(
      JSON.stringify({
        v: PAYLOAD_VERSION,
        a: p.action,
        i: p.id,
        u: p.uid,
        s: p.secret,
        n: p.instance,
        g: p.generation,
      }),
      AAD,
    );
  }

  function open(token: string): TokenPayload {
    const text = sealer.openString(token, AAD);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new SealInvalidError('Sealed challenge token holds no valid payload.', { cause: err });
    }
    const d = raw as Record<string, unknown>;
    if (
      typeof d !== 'object' ||
      d === null ||
      d.v !== PAYLOAD_VERSION ||
      typeof d.a !== 'string' ||
      typeof d.i !== 'string' ||
      (d.u !== null && typeof d.u !== 'string') ||
      typeof d.s !== 'string' ||
      d.s.length === 0 ||
      typeof d.n !== 'string' ||
      typeof d.g !== 'number' ||
      !Number.isSafeInteger(d.g)
    ) {
      throw new SealInvalidError('Sealed challenge token holds no valid payload.');
    }
    return {
      action: d.a,
      id: d.i,
      uid: d.u as string | null,
      secret: d.s,
      instance: d.n,
      generation: d.g,
    };
  }

  return Object.freeze({ seal, open });
}
