/**
 * `tessera/jwt`: key sets, the PAT-to-JWT signer/verifier, JWKS, rotation and
 * a revocation denylist. EdDSA (Ed25519) by default, RS256 and ES256
 * available, never `none` or HMAC.
 * @module
 */
export { createJwtDenylist, DEFAULT_DENYLIST_COLLECTION, type JwtDenylist } from './denylist.js';
export { MAX_TTL_SECONDS, parseDurationSeconds } from './duration.js';
export { generateKeySet, KID_PATTERN, MIN_RSA_BITS } from './key-set.js';
export {
  buildSignerVerifier,
  DEFAULT_JWT_TTL_SECONDS,
  MAX_JWS_LENGTH,
} from './signer-verifier.js';
export {
  JWT_ALGORITHMS,
  type JwtAlgorithm,
  type JwtClaims,
  type JwtProfile,
  type JwtSignerVerifier,
  type KeySet,
  type PublicJwk,
  type PublicJwks,
  type RetiringKey,
  type SeedClaims,
  type SignerVerifierOptions,
  type SignOptions,
} from './types.js';
