/**
 * The live key set of a signer/verifier: which key signs, which public keys
 * are published (JWKS) and accepted, the algorithm allowlist, and rotation
 * (add, activate, retire). A retired key stays published until the last
 * token it can have signed has expired, then drops out; exported key sets
 * carry that time (`retiring_keys`), so it survives a save and a reload.
 * @module
 */
import type { KeyObject, SignKeyObjectInput } from 'node:crypto';
import { createLocalJWKSet, type JWK, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import {
  assertPublicOnly,
  exportPrivateJwk,
  type ImportedKey,
  importKey,
  samePublicKey,
} from './key-set.js';
import {
  JWT_ALGORITHMS,
  type JwtAlgorithm,
  type KeySet,
  type PublicJwk,
  type PublicJwks,
  type RetiringKey,
} from './types.js';

/** What `sign` needs of the active key, prepared once per activation. */
export interface Signing {
  /** Key id written in the header. */
  readonly kid: string;
  /** base64url of the protected header `{ alg, kid, typ }`. */
  readonly headerB64: string;
  /** Digest for `crypto.sign` (`null` for Ed25519). */
  readonly digest: string | null;
  /** The private key (ECDSA with `dsaEncoding: 'ieee-p1363'`, as JWS needs). */
  readonly key: KeyObject | SignKeyObjectInput;
}

/** The registry (see {@link createKeyRegistry}). */
export interface KeyRegistry {
  /** The active key, ready to sign. */
  readonly signing: Signing;
  /** Accepted algorithms. */
  readonly algorithms: readonly JwtAlgorithm[];
  /** Published public keys (pruned of expired retirements). */
  jwks(): PublicJwks;
  /** `jose` key resolver over the published keys. */
  localSet(): JWTVerifyGetKey;
  /**
   * Add (and publish) a key.
   * @param jwk - a private or public JWK
   * @throws ConfigError (`ERR_TESSERA_CONFIG`) for a bad key, a duplicate kid or an algorithm not allowed
   */
  addKey(jwk: JWK): void;
  /**
   * Make `kid` the signing key; the previous one is retired.
   * @param kid - a published key with a private part
   * @throws ConfigError (`ERR_TESSERA_CONFIG`) for an unknown or public-only key
   */
  activate(kid: string): void;
  /**
   * Unpublish `kid` once the tokens it can have signed have expired.
   * @param kid - a published key other than the active one
   * @throws ConfigError (`ERR_TESSERA_CONFIG`) for the active or an unknown key
   */
  retire(kid: string): void;
  /** The keys in the seed's shape, with `retiring_keys` (see `JwtSignerVerifier.exportKeySet`). */
  exportKeySet(): KeySet;
}

interface Entry {
  readonly key: ImportedKey;
  /** When the key leaves the JWKS, ms since epoch; null while published indefinitely. */
  removeAt: number | null;
}

/**
 * Restore the removal times of a saved key set (`retiring_keys`, epoch seconds).
 * @throws ConfigError (`ERR_TESSERA_CONFIG`) for a malformed list, a duplicate,
 *   or the active key listed as retiring
 */
function applyRetirements(
  retiring: KeySet['retiring_keys'],
  entries: Map<string, Entry>,
  activeKid: string,
): void {
  if (retiring === undefined) return;
  if (!Array.isArray(retiring)) throw new ConfigError('keySet.retiring_keys must be an array');
  const seen = new Set<string>();
  for (const [i, r] of retiring.entries()) {
    const kid = (r as Partial<RetiringKey> | null)?.kid;
    const at = (r as Partial<RetiringKey> | null)?.remove_at;
    if (typeof kid !== 'string' || !Number.isSafeInteger(at) || (at as number) < 0) {
      throw new ConfigError(
        `keySet.retiring_keys[${i}] must be { kid: string, remove_at: epoch seconds }`,
      );
    }
    if (seen.has(kid)) throw new ConfigError(`keySet.retiring_keys lists ${kid} twice`);
    seen.add(kid);
    if (kid === activeKid) throw new ConfigError(`The active key ${kid} cannot be retiring`);
    // A key that already left the set has nothing to restore.
    const e = entries.get(kid);
    if (e) e.removeAt = (at as number) * 1000;
  }
}

/**
 * Build the registry from a key set.
 *
 * @param options - `keySet`; `typ` of minted headers; `clock`; `retireAfterMs` (ttl + tolerance
 *   + 1 s); `algorithms` (explicit allowlist, or undefined for the keys' own)
 * @throws ConfigError (`ERR_TESSERA_CONFIG`) for a bad key set (seed messages included),
 *   including malformed `retiring_keys`
 * @throws TypeError for a bad `algorithms` list
 * @example
 * ```ts
 * const keys = createKeyRegistry({ keySet, typ: 'JWT', clock, retireAfterMs: 601_000, algorithms: undefined });
 * keys.jwks(); // { keys: [...] }
 * ```
 */
export function createKeyRegistry(options: {
  keySet: KeySet;
  typ: string;
  clock: Clock;
  retireAfterMs: number;
  algorithms: readonly JwtAlgorithm[] | undefined;
}): KeyRegistry {
  const { keySet, typ, clock, retireAfterMs } = options;
  const activeKid = keySet.active_kid;
  if (typeof activeKid !== 'string' || activeKid.length === 0) {
    throw new ConfigError('keySet.active_kid must be a non-empty string');
  }
  if (!Array.isArray(keySet.private_keys) || !Array.isArray(keySet.public_keys)) {
    throw new ConfigError('keySet.private_keys and keySet.public_keys must be arrays');
  }
  const entries = new Map<string, Entry>();
  for (const [i, jwk] of keySet.private_keys.entries()) {
    if (jwk?.kid === activeKid && jwk.alg === undefined) {
      throw new ConfigError("Active key is missing 'alg' property");
    }
    const key = importKey(jwk, `private_keys[${i}]`);
    if (key.privateKey === null) {
      throw new ConfigError(`private_keys[${i}] (${key.kid}) has no private part`);
    }
    if (entries.has(key.kid)) throw new ConfigError(`Duplicate kid ${key.kid}`);
    entries.set(key.kid, { key, removeAt: null });
  }
  for (const [i, jwk] of keySet.public_keys.entries()) {
    assertPublicOnly(jwk, `public_keys[${i}]`);
    const key = importKey(jwk, `public_keys[${i}]`);
    const existing = entries.get(key.kid);
    if (existing) {
      if (existing.key.alg !== key.alg || !samePublicKey(existing.key.publicJwk, key.publicJwk)) {
        throw new ConfigError(`public_keys[${i}] (${key.kid}) does not match its private key`);
      }
      continue;
    }
    entries.set(key.kid, { key, removeAt: null });
  }

  applyRetirements(keySet.retiring_keys, entries, activeKid);

  const explicit = options.algorithms !== undefined;
  const algorithms = new Set<JwtAlgorithm>();
  if (explicit) {
    if (!Array.isArray(options.algorithms) || options.algorithms.length === 0) {
      throw new TypeError('algorithms must be a non-empty array');
    }
    for (const a of options.algorithms) {
      if (!JWT_ALGORITHMS.includes(a)) {
        throw new TypeError(`algorithms: ${JSON.stringify(a)} is not one of EdDSA, RS256, ES256`);
      }
      algorithms.add(a);
    }
  }
  const admit = (key: ImportedKey) => {
    if (algorithms.has(key.alg)) return;
    if (explicit) {
      throw new ConfigError(`Key ${key.kid} uses ${key.alg}, which is not in algorithms`);
    }
    algorithms.add(key.alg);
  };
  for (const e of entries.values()) admit(e.key);

  const signingFor = (key: ImportedKey): Signing => {
    if (key.privateKey === null) throw new ConfigError(`Key ${key.kid} has no private part`);
    const header = { alg: key.alg, kid: key.kid, typ };
    return {
      kid: key.kid,
      headerB64: Buffer.from(JSON.stringify(header), 'utf8').toString('base64url'),
      digest: key.alg === 'EdDSA' ? null : 'sha256',
      key:
        key.alg === 'ES256' ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' } : key.privateKey,
    };
  };
  const first = entries.get(activeKid);
  if (!first || first.key.privateKey === null) {
    throw new ConfigError(`No private key found for active_kid ${activeKid}`);
  }
  let signing = signingFor(first.key);

  let version = 0;
  let jwksVersion = -1;
  let jwksCache: PublicJwks = { keys: [] };
  let localVersion = -1;
  let local: JWTVerifyGetKey | null = null;
  let nextRemoval = Number.POSITIVE_INFINITY;
  for (const e of entries.values()) {
    if (e.removeAt !== null) nextRemoval = Math.min(nextRemoval, e.removeAt);
  }

  const prune = () => {
    const now = clock.now();
    if (now < nextRemoval) return;
    nextRemoval = Number.POSITIVE_INFINITY;
    for (const [kid, e] of entries) {
      if (e.removeAt === null) continue;
      if (e.removeAt <= now) {
        entries.delete(kid);
        version++;
      } else {
        nextRemoval = Math.min(nextRemoval, e.removeAt);
      }
    }
  };
  const jwks = (): PublicJwks => {
    prune();
    if (jwksVersion !== version) {
      const keys: PublicJwk[] = [];
      for (const e of entries.values()) keys.push(e.key.publicJwk);
      jwksCache = Object.freeze({ keys: Object.freeze(keys) });
      jwksVersion = version;
    }
    return jwksCache;
  };
  const retireEntry = (e: Entry) => {
    const at = clock.now() + retireAfterMs;
    e.removeAt = e.removeAt === null ? at : Math.min(e.removeAt, at);
    nextRemoval = Math.min(nextRemoval, e.removeAt);
  };
  const live = (kid: string): Entry => {
    prune();
    const e = entries.get(kid);
    if (!e) throw new ConfigError(`Unknown kid ${kid}`);
    return e;
  };

  return {
    get signing() {
      return signing;
    },
    get algorithms() {
      return Object.freeze([...algorithms]);
    },
    jwks,
    localSet() {
      const published = jwks();
      if (local === null || localVersion !== version) {
        local = createLocalJWKSet({ keys: published.keys as unknown as JWK[] });
        localVersion = version;
      }
      return local;
    },
    addKey(jwk: JWK) {
      const key = importKey(jwk, 'key');
      if (entries.has(key.kid)) throw new ConfigError(`Duplicate kid ${key.kid}`);
      admit(key);
      entries.set(key.kid, { key, removeAt: null });
      version++;
    },
    activate(kid: string) {
      const e = live(kid);
      if (e.key.privateKey === null) throw new ConfigError(`Key ${kid} has no private part`);
      if (kid === signing.kid) return;
      const previous = entries.get(signing.kid);
      signing = signingFor(e.key);
      e.removeAt = null;
      if (previous) retireEntry(previous);
    },
    retire(kid: string) {
      const e = live(kid);
      if (kid === signing.kid) throw new ConfigError('The active key cannot be retired');
      retireEntry(e);
    },
    exportKeySet() {
      prune();
      const privateKeys: JWK[] = [];
      const publicKeys: JWK[] = [];
      const retiring: RetiringKey[] = [];
      for (const e of entries.values()) {
        if (e.key.privateKey !== null) privateKeys.push(exportPrivateJwk(e.key));
        publicKeys.push({ ...e.key.publicJwk });
        // Rounded up: a reloaded key is never dropped before its last token expires.
        if (e.removeAt !== null) {
          retiring.push({ kid: e.key.kid, remove_at: Math.ceil(e.removeAt / 1000) });
        }
      }
      return {
        active_kid: signing.kid,
        private_keys: privateKeys,
        public_keys: publicKeys,
        ...(retiring.length > 0 ? { retiring_keys: retiring } : {}),
      };
    },
  };
}
