/**
 * The JWT signer/verifier. Minting builds the JWS compact serialization
 * directly (RFC 7515 §7.1): a cached base64url header, the base64url JSON
 * payload, and one `node:crypto` `sign()` over a pre-imported KeyObject
 * (Ed25519; RSASSA-PKCS1-v1_5 with SHA-256; ECDSA P-256 with SHA-256 in the
 * IEEE P1363 `r || s` form that JWS requires). Verification goes through
 * `jose` (`jwtVerify` over `createLocalJWKSet`) with an explicit algorithm
 * allowlist and `typ`, `iss`, `aud`, `exp`, `nbf` checks.
 * @module
 */
import { sign as nodeSign } from 'node:crypto';
import { errors, type JWK, type JWTVerifyGetKey, type JWTVerifyResult, jwtVerify } from 'jose';
import { type Clock, systemClock } from '../core/clock.js';
import { ConfigError, InvalidInputError, RevokedError } from '../core/errors.js';
import { randomId62 } from '../core/random.js';
import { createJwtDenylist, type JwtDenylist } from './denylist.js';
import { parseDurationSeconds } from './duration.js';
import { createKeyRegistry } from './key-registry.js';
import { KID_PATTERN } from './key-set.js';
import type { JwtClaims, JwtSignerVerifier, SignerVerifierOptions, SignOptions } from './types.js';

/** Default token lifetime, seconds (10 minutes). */
export const DEFAULT_JWT_TTL_SECONDS = 600;

/** Longest token string `verify` looks at, characters. */
export const MAX_JWS_LENGTH = 16_384;

/** Header parameters that point at keys outside the local key set; never accepted. */
const FOREIGN_KEY_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function checkAudience(aud: unknown, label: string): string | string[] | undefined {
  if (aud === undefined) return undefined;
  if (typeof aud === 'string' && aud.length > 0) return aud;
  if (
    Array.isArray(aud) &&
    aud.length > 0 &&
    aud.every((a) => typeof a === 'string' && a.length > 0)
  ) {
    return [...(aud as string[])];
  }
  throw new TypeError(`${label} must be a non-empty string or array of non-empty strings`);
}

/**
 * Build the signer/verifier for a key set.
 *
 * @param options - see {@link SignerVerifierOptions}; `keySet` and `issuer` are required,
 *   `ttl` defaults to 600 s, `profile` to `seed`
 * @returns a frozen object with `sign`, `verify`, `jwks`, revocation and rotation methods
 * @throws ConfigError (`ERR_TESSERA_CONFIG`) for a bad key set ("No private key found for
 *   active_kid <kid>", "Active key is missing 'alg' property", mismatched or weak keys)
 * @throws TypeError / RangeError for other bad options
 * @example
 * ```ts
 * const sv = await buildSignerVerifier({ keySet: await generateKeySet('k1'), issuer: 'https://auth.example.com', ttl: '10m' });
 * const jwt = await sv.sign({ sub: tokenId, owner, admin: false, roles: [] });
 * const { payload } = await sv.verify(jwt);
 * ```
 */
export async function buildSignerVerifier(
  options: SignerVerifierOptions,
): Promise<JwtSignerVerifier> {
  if (!isPlainObject(options)) throw new TypeError('options must be an object');
  const { keySet } = options;
  if (!isPlainObject(keySet)) throw new ConfigError('keySet must be an object');
  if (typeof options.issuer !== 'string' || options.issuer.length === 0) {
    throw new TypeError('issuer must be a non-empty string');
  }
  const issuer = options.issuer;
  const ttlSeconds = parseDurationSeconds(options.ttl ?? DEFAULT_JWT_TTL_SECONDS, 'ttl');
  const toleranceSeconds = options.clockToleranceSeconds ?? 0;
  if (!Number.isSafeInteger(toleranceSeconds) || toleranceSeconds < 0 || toleranceSeconds > 300) {
    throw new RangeError('clockToleranceSeconds must be an integer in 0..300');
  }
  const profile = options.profile ?? 'seed';
  if (profile !== 'seed' && profile !== 'at+jwt') {
    throw new TypeError('profile must be "seed" or "at+jwt"');
  }
  const audience = checkAudience(options.audience, 'audience');
  if (profile === 'at+jwt' && audience === undefined) {
    throw new TypeError('the at+jwt profile (RFC 9068) requires an audience');
  }
  const typ = profile === 'at+jwt' ? 'at+jwt' : 'JWT';
  const clock: Clock = options.clock ?? systemClock;
  const notBefore = options.notBefore === true;
  const denylist: JwtDenylist | null = options.store
    ? createJwtDenylist({
        store: options.store,
        clock,
        ...(options.denylistCollection ? { collection: options.denylistCollection } : {}),
      })
    : null;

  // --- keys ---------------------------------------------------------------
  const keys = createKeyRegistry({
    keySet,
    typ,
    clock,
    retireAfterMs: (ttlSeconds + toleranceSeconds + 1) * 1000,
    algorithms: options.algorithms,
  });
  const getKey: JWTVerifyGetKey = (header, token) => {
    for (const p of FOREIGN_KEY_HEADERS) {
      if (Object.hasOwn(header, p)) {
        throw new errors.JWSInvalid(`JWS "${p}" Header Parameter is not accepted`);
      }
    }
    if (typeof header.kid !== 'string') {
      throw new errors.JWSInvalid('JWS "kid" (Key ID) Header Parameter is required');
    }
    // No key can carry a kid outside KID_PATTERN (NUL, quotes, > 128 characters): unknown at once.
    if (!KID_PATTERN.test(header.kid)) throw new errors.JWKSNoMatchingKey();
    return keys.localSet()(header, token);
  };

  // --- verification ---------------------------------------------------------
  const verifyOptions = () => ({
    algorithms: [...keys.algorithms],
    issuer,
    typ,
    clockTolerance: toleranceSeconds,
    currentDate: new Date(clock.now()),
    requiredClaims: ['iat', 'exp', 'jti'],
    ...(audience !== undefined ? { audience } : {}),
  });
  const verifySignature = async (jws: string): Promise<JWTVerifyResult<JwtClaims>> => {
    if (typeof jws !== 'string' || jws.length > MAX_JWS_LENGTH) {
      throw new errors.JWSInvalid('Invalid Compact JWS');
    }
    return jwtVerify<JwtClaims>(jws, getKey, verifyOptions());
  };
  const requireDenylist = (): JwtDenylist => {
    if (denylist === null) {
      throw new ConfigError('JWT revocation needs a store (buildSignerVerifier({ store }))');
    }
    return denylist;
  };

  const api: JwtSignerVerifier = {
    issuer,
    ttlSeconds,
    clockToleranceSeconds: toleranceSeconds,
    audience,
    profile,
    get algorithms() {
      return keys.algorithms;
    },
    get activeKid() {
      return keys.signing.kid;
    },
    canRevoke: denylist !== null,
    get jwks() {
      return keys.jwks();
    },

    async sign(claims: JwtClaims, signOptions?: SignOptions): Promise<string> {
      if (!isPlainObject(claims)) throw new InvalidInputError('claims must be a plain object');
      const iat = Math.floor(clock.now() / 1000);
      let exp = iat + ttlSeconds;
      const cap = signOptions?.expiresAt;
      if (cap !== undefined) {
        if (typeof cap !== 'number' || !Number.isFinite(cap)) {
          throw new InvalidInputError(
            'expiresAt must be a finite number (epoch seconds)',
            'expiresAt',
          );
        }
        const latest = Math.floor(cap);
        if (latest <= iat) {
          throw new InvalidInputError('expiresAt must be after the issue time', 'expiresAt');
        }
        if (latest < exp) exp = latest;
      }
      const payload: Record<string, unknown> = {
        ...claims,
        iss: issuer,
        iat,
        exp,
        jti: randomId62(22),
      };
      if (notBefore) payload.nbf = iat;
      const aud =
        signOptions?.audience !== undefined
          ? checkAudience(signOptions.audience, 'audience')
          : audience;
      if (aud !== undefined) payload.aud = aud;
      if (profile === 'at+jwt') {
        if (typeof payload.sub !== 'string' || payload.sub.length === 0) {
          throw new InvalidInputError('at+jwt tokens need a "sub" claim', 'sub');
        }
        if (typeof payload.client_id !== 'string' || payload.client_id.length === 0) {
          throw new InvalidInputError('at+jwt tokens need a "client_id" claim', 'client_id');
        }
      }
      let json: string;
      try {
        json = JSON.stringify(payload);
      } catch (cause) {
        throw new InvalidInputError('claims must be JSON-serializable', undefined, { cause });
      }
      const s = keys.signing;
      const input = `${s.headerB64}.${Buffer.from(json, 'utf8').toString('base64url')}`;
      const signature = nodeSign(s.digest, Buffer.from(input, 'latin1'), s.key);
      return `${input}.${signature.toString('base64url')}`;
    },

    async verify(jws: string) {
      const result = await verifySignature(jws);
      if (denylist !== null && (await denylist.isDenied(result.payload))) {
        throw new RevokedError('JWT has been revoked.');
      }
      return result;
    },

    async revoke(jws: string) {
      const list = requireDenylist();
      let payload: JwtClaims;
      try {
        payload = (await verifySignature(jws)).payload;
      } catch {
        return false;
      }
      if (typeof payload.jti !== 'string' || typeof payload.exp !== 'number') return false;
      await list.denyToken(payload.jti, payload.exp + toleranceSeconds + 1);
      return true;
    },

    async revokeSubject(sub: string) {
      const list = requireDenylist();
      if (typeof sub !== 'string' || sub.length === 0) {
        throw new InvalidInputError('sub must be a non-empty string', 'sub');
      }
      const nowSeconds = Math.floor(clock.now() / 1000);
      await list.denySubject(sub, nowSeconds + ttlSeconds + toleranceSeconds + 1);
    },

    addKey: (jwk: JWK) => keys.addKey(jwk),
    activate: (kid: string) => keys.activate(kid),
    retire: (kid: string) => keys.retire(kid),
    exportKeySet: () => keys.exportKeySet(),
  };
  return Object.freeze(api);
}
