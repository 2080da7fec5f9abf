/**
 * Key sets: generation with `jose` (in the `@access-tokens/express` shape) and
 * the strict import every key goes through before it signs or verifies.
 * @module
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { ConfigError, InvalidInputError } from '../core/errors.js';
import { JWT_ALGORITHMS, type JwtAlgorithm, type KeySet, type PublicJwk } from './types.js';

/** Pattern a key id must match: 1..128 printable ASCII characters, no quotes or backslash. */
export const KID_PATTERN = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;

/** Smallest accepted RSA modulus, bits. */
export const MIN_RSA_BITS = 2048;

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

function isAlgorithm(alg: unknown): alg is JwtAlgorithm {
  return typeof alg === 'string' && (JWT_ALGORITHMS as readonly string[]).includes(alg);
}

/**
 * Generate a key set with one key, which is active: Ed25519 for `EdDSA`
 * (default), a 2048-bit RSA key for `RS256`, P-256 for `ES256`. Each JWK has
 * `kid`, `alg` and `use: "sig"`.
 *
 * @param kid - key id, 1..128 printable ASCII characters (no `"` or `\`)
 * @param alg - `EdDSA` (default), `RS256` or `ES256`
 * @returns `{ active_kid, private_keys: [jwk], public_keys: [jwk] }`
 * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) for a bad kid or algorithm
 * @example
 * ```ts
 * const keySet = await generateKeySet('2026-02');
 * const rsa = await generateKeySet('rsa-1', 'RS256');
 * ```
 */
export async function generateKeySet(kid: string, alg: JwtAlgorithm = 'EdDSA'): Promise<KeySet> {
  if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) {
    throw new InvalidInputError('kid must be 1..128 printable ASCII characters', 'kid');
  }
  if (!isAlgorithm(alg)) {
    throw new InvalidInputError(`alg must be one of ${JWT_ALGORITHMS.join(', ')}`, 'alg');
  }
  const pair =
    alg === 'EdDSA'
      ? await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
      : alg === 'RS256'
        ? await generateKeyPair('RS256', { modulusLength: MIN_RSA_BITS, extractable: true })
        : await generateKeyPair('ES256', { extractable: true });
  const privateJwk = { ...(await exportJWK(pair.privateKey)), kid, alg, use: 'sig' };
  const publicJwk = { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' };
  return { active_kid: kid, private_keys: [privateJwk], public_keys: [publicJwk] };
}

/** A key after strict import. */
export interface ImportedKey {
  /** Key id. */
  readonly kid: string;
  /** The one algorithm the key is used with. */
  readonly alg: JwtAlgorithm;
  /** Present when the JWK had private members. */
  readonly privateKey: KeyObject | null;
  /** The public key (derived from the private one when there is one). */
  readonly publicKey: KeyObject;
  /** Public members only. */
  readonly publicJwk: PublicJwk;
}

function expectedShape(alg: JwtAlgorithm): { kty: string; crv?: string } {
  if (alg === 'EdDSA') return { kty: 'OKP', crv: 'Ed25519' };
  if (alg === 'ES256') return { kty: 'EC', crv: 'P-256' };
  return { kty: 'RSA' };
}

function publicJwkOf(publicKey: KeyObject, kid: string, alg: JwtAlgorithm): PublicJwk {
  const j = publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const out: Record<string, string> = { kty: j.kty as string };
  for (const m of ['crv', 'x', 'y', 'n', 'e']) if (j[m] !== undefined) out[m] = j[m] as string;
  return Object.freeze({ ...out, kid, alg, use: 'sig' }) as PublicJwk;
}

/**
 * Import one JWK strictly: `kid` and `alg` required, the key type must match
 * the algorithm (OKP/Ed25519, EC/P-256, RSA >= 2048 bits), `use` absent or
 * `sig`, and `key_ops` (if any) must allow signing or verifying.
 *
 * @param jwk - a private or public JWK
 * @param label - where the key came from, for messages
 * @throws ConfigError (`ERR_TESSERA_CONFIG`) for anything else
 * @example `const key = importKey(keySet.private_keys[0], 'private_keys[0]');`
 */
export function importKey(jwk: JWK, label: string): ImportedKey {
  if (typeof jwk !== 'object' || jwk === null) throw new ConfigError(`${label} is not a JWK`);
  const kid = jwk.kid;
  if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) {
    throw new ConfigError(`${label} has a missing or invalid 'kid'`);
  }
  const alg = jwk.alg;
  if (alg === undefined) throw new ConfigError(`Key ${kid} is missing 'alg' property`);
  if (!isAlgorithm(alg)) {
    throw new ConfigError(`Key ${kid} has unsupported alg ${JSON.stringify(alg)}`);
  }
  if (jwk.use !== undefined && jwk.use !== 'sig') {
    throw new ConfigError(`Key ${kid} has use ${JSON.stringify(jwk.use)}, expected "sig"`);
  }
  const ops: unknown = jwk.key_ops;
  if (
    ops !== undefined &&
    !(Array.isArray(ops) && ops.some((op) => op === 'sign' || op === 'verify'))
  ) {
    throw new ConfigError(`Key ${kid} has key_ops ${JSON.stringify(ops)}, without sign or verify`);
  }
  const shape = expectedShape(alg);
  if (jwk.kty !== shape.kty || (shape.crv !== undefined && jwk.crv !== shape.crv)) {
    throw new ConfigError(
      `Key ${kid} does not fit ${alg}: expected kty ${shape.kty}${shape.crv ? ` crv ${shape.crv}` : ''}`,
    );
  }
  const isPrivate = PRIVATE_MEMBERS.some((m) => (jwk as Record<string, unknown>)[m] !== undefined);
  let privateKey: KeyObject | null = null;
  let publicKey: KeyObject;
  try {
    // node:crypto takes the raw JWK members; `alg`, `kid` and `use` are ignored by it.
    const material = { ...jwk } as Record<string, unknown>;
    if (isPrivate) {
      privateKey = createPrivateKey({ key: material as never, format: 'jwk' });
      publicKey = createPublicKey(privateKey);
    } else {
      publicKey = createPublicKey({ key: material as never, format: 'jwk' });
    }
  } catch (cause) {
    throw new ConfigError(`Key ${kid} cannot be imported`, { cause });
  }
  if (alg === 'RS256') {
    const bits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) {
      throw new ConfigError(`Key ${kid} is a ${bits}-bit RSA key; at least ${MIN_RSA_BITS}`);
    }
  }
  return { kid, alg, privateKey, publicKey, publicJwk: publicJwkOf(publicKey, kid, alg) };
}

/**
 * Check that a public JWK from `public_keys` has no private members.
 * @param jwk - the JWK
 * @param label - where it came from, for the message
 * @throws ConfigError (`ERR_TESSERA_CONFIG`) when it has `d`, `p`, `q`, `dp`, `dq`, `qi`, `oth` or `k`
 * @example `assertPublicOnly(keySet.public_keys[0], 'public_keys[0]');`
 */
export function assertPublicOnly(jwk: JWK, label: string): void {
  if (PRIVATE_MEMBERS.some((m) => (jwk as Record<string, unknown>)[m] !== undefined)) {
    throw new ConfigError(`${label} holds private key members; public_keys must be public`);
  }
}

/**
 * Whether two public JWKs describe the same key (same type, curve and key members).
 * @param a - a public JWK
 * @param b - another
 * @example `samePublicKey(imported.publicJwk, fromPublicKeys.publicJwk)`
 */
export function samePublicKey(a: PublicJwk, b: PublicJwk): boolean {
  return a.kty === b.kty && a.crv === b.crv && a.x === b.x && a.y === b.y && a.n === b.n;
}

/**
 * Export a private key as a JWK with `kid`, `alg` and `use` (secret).
 * @param key - an imported key with a private part
 * @throws ConfigError (`ERR_TESSERA_CONFIG`) when it has no private part
 * @example `const jwk = exportPrivateJwk(key); // { kty, d, ..., kid, alg, use: 'sig' }`
 */
export function exportPrivateJwk(key: ImportedKey): JWK {
  if (key.privateKey === null) throw new ConfigError(`Key ${key.kid} has no private part`);
  const j = key.privateKey.export({ format: 'jwk' }) as JWK;
  return { ...j, kid: key.kid, alg: key.alg, use: 'sig' };
}
