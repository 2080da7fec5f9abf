/**
 * `tessera`: the core. Errors, clock, CSPRNG helpers, encodings, keys,
 * hashing, sealing, throttling and the store contract's types. Domain modules,
 * stores and adapters live in subpath exports (`tessera/action-tokens`,
 * `tessera/stores/sqlite`, ...).
 * @module
 */
export {
  createSealer,
  MAX_SEALED_TOKEN_LENGTH,
  type Sealer,
  type SealerOptions,
} from './core/aead.js';
export { type Clock, createFakeClock, type FakeClock, systemClock } from './core/clock.js';
export { BASE62_ALPHABET, decodeBase62, encodeBase62, isBase62 } from './core/encoding/base62.js';
export {
  decodeBase64url,
  decodeStrictBase64,
  encodeBase64url,
  isCanonicalBase64url,
} from './core/encoding/base64url.js';
export { crc32 } from './core/encoding/crc32.js';
export {
  AlreadyExistsError,
  ConfigError,
  ConflictError,
  ExpiredError,
  ForbiddenError,
  InvalidInputError,
  InvalidValueError,
  isTesseraError,
  KeyNotFoundError,
  LockedError,
  MalformedRecordError,
  NotFoundError,
  RevokedError,
  SealInvalidError,
  StoreError,
  StoreUnavailableError,
  TesseraError,
  type TesseraErrorCode,
  ThrottledError,
  UnauthorizedError,
  UsedUpError,
} from './core/errors.js';
export {
  createHmacHasher,
  type HmacHasher,
  parsePhc,
  SCRYPT_LIMITS,
  scryptParamsError,
  scryptPhc,
  sha256Phc,
  timingSafeEqualStrings,
  type VerifyPhcResult,
  verifyPhc,
} from './core/hashing.js';
export {
  createKeyring,
  generateServerSecret,
  type Keyring,
  type KeyringOptions,
} from './core/keyring.js';
export {
  randomAlphabetCode,
  randomBytes,
  randomId62,
  randomNumericCode,
  randomSecret,
  randomUUID,
} from './core/random.js';
export {
  checkThrottleRule,
  hitThrottle,
  retryAfterSeconds,
  type ThrottleOutcome,
  type ThrottleRule,
  throttleHitOp,
} from './core/throttle.js';
export type * from './stores/contract.js';
