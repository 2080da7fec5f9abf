/**
 * Hashes of high-entropy secrets as PHC-style strings, and their verification
 * in constant time.
 *
 * - `$sha256$<B64>`: SHA-256 of the secret, no salt. Only for secrets with at
 *   least 128 bits of entropy (PATs, session tokens, links), where a salt or a
 *   slow hash adds nothing: the input space cannot be enumerated.
 * - `$hmac-sha256$k=<keyId>$<B64>`: HMAC-SHA-256 under a {@link Keyring}
 *   subkey, so a leaked table alone is useless. Also the base of
 *   {@link HmacHasher.digest}, which binds short codes to (owner, action, value).
 * - `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt B64>$<hash B64>`: verified for
 *   tokens migrated from `@access-tokens/core`, written byte for byte as it
 *   writes them (via `@phc/format`); parameters are bounded
 *   ({@link SCRYPT_LIMITS}) so a stored string cannot exhaust CPU or memory.
 *
 * B64 is standard base64 without padding, canonical (see
 * {@link decodeStrictBase64Unpadded}).
 *
 * @example
 * ```ts
 * const phc = sha256Phc(secret);
 * const result = await verifyPhc(secret, phc); // { valid: true }
 * ```
 * @module
 */

import * as crypto from 'node:crypto';
import { createHash, createHmac, scrypt, timingSafeEqual } from 'node:crypto';
import { decodeStrictBase64Unpadded, encodeBase64Unpadded } from './encoding/base64url.js';
import { encodeLengthPrefixed } from './encoding/length-prefixed.js';
import { InvalidInputError } from './errors.js';
import type { Keyring } from './keyring.js';
import { randomBytes } from './random.js';

/** A parsed PHC string. */
export interface ParsedPhc {
  /** Algorithm id, e.g. `'scrypt'`. */
  id: string;
  /** The `v=` field, when present. */
  version?: number;
  /** Parameters, as raw strings, in a null-prototype record. */
  params: Record<string, string>;
  /** Salt bytes (only when both a salt and a hash field are present). */
  salt?: Buffer;
  /** Hash bytes (the last B64 field; a lone B64 field is the hash). */
  hash?: Buffer;
}

/** Why a PHC verification failed. */
export type VerifyPhcReason =
  | 'invalid_phc'
  | 'unsupported_algorithm'
  | 'invalid_parameters'
  | 'invalid_secret';

/** Result of {@link verifyPhc}. */
export type VerifyPhcResult =
  | { valid: true }
  | { valid: false; reason: VerifyPhcReason; cause?: unknown };

/** Options of {@link verifyPhc}. */
export interface VerifyPhcOptions {
  /** Keyring for `$hmac-sha256$` strings (they verify as `invalid_parameters` without one). */
  keyring?: Keyring;
  /** HKDF purpose the HMAC key was derived for (default `'hash'`). */
  purpose?: string;
}

/**
 * Options of {@link scryptPhc}; defaults are those of `@access-tokens/core`.
 * Bounds: see {@link SCRYPT_LIMITS}.
 */
export interface ScryptPhcOptions {
  /** log2 of the CPU/memory cost N, 1..17 (default 14, N = 16384). */
  ln?: number;
  /** Block size r, 1..32 (default 8). */
  r?: number;
  /** Parallelisation p, 1..16 (default 1). */
  p?: number;
  /** Salt size in bytes, 8..64 (default 16, written as 22 characters). */
  saltBytes?: number;
  /** Hash size in bytes, 16..64 (default 32, written as 43 characters). */
  keyBytes?: number;
}

/** Hashes secrets and digests code bindings under a keyring. */
export interface HmacHasher {
  /**
   * `$hmac-sha256$k=<activeId>$<B64>` of `secret` (UTF-8 when a string).
   * @throws TypeError when `secret` is neither a string nor a Uint8Array
   */
  hash(secret: string | Uint8Array): string;
  /**
   * Unpadded base64url HMAC-SHA-256 of the length-prefixed encoding of `parts`
   * (see {@link encodeLengthPrefixed}), under a subkey separate from `hash`'s.
   * @param parts - e.g. `[owner, action, code]`
   * @param keyId - key id (default: the active key)
   * @throws KeyNotFoundError (`ERR_TESSERA_KEY_NOT_FOUND`) when `keyId` is not listed
   */
  digest(parts: readonly string[], keyId?: string): string;
  /**
   * {@link HmacHasher.digest} under every key id, for lookups that must find
   * values written before a rotation. Order: the active key first, then the
   * other ids in keyring order (`[activeId, ...ids without activeId]`).
   */
  digestAll(parts: readonly string[]): string[];
  /** {@link verifyPhc} with this hasher's keyring and purpose. */
  verify(secret: string | Uint8Array, phc: string): Promise<VerifyPhcResult>;
}

const MAX_PHC_LENGTH = 1024;
const ID_RE = /^[a-z0-9-]{1,32}$/;
const PARAM_RE = /^([a-z0-9-]{1,32})=([A-Za-z0-9/+.\-_]{1,64})$/;
const VERSION_RE = /^v=(0|[1-9][0-9]{0,8})$/;
const DECIMAL_RE = /^(0|[1-9][0-9]{0,8})$/;

/**
 * Bounds on scrypt parameters, for the PHC strings Tessera writes and for the
 * stored ones it verifies. A stored string comes from an operator, but token
 * ids are not secret: anyone can make the server run one scrypt with a wrong
 * secret against any stored hash, so the bounds cap what an imported hash can
 * cost per request.
 *
 * They admit what `@access-tokens/core` writes with its defaults (ln 14, r 8,
 * p 1, 16-byte salt, 32-byte hash: work 2^17, 16 MiB), every cost N and block
 * size r its default `maxmem` (32 MiB) lets it use, and parallelization up to
 * 8 at its default N and r, so modest headroom:
 * - `memoryBytes`: 128·N·r at most 32 MiB (the seed's default maxmem);
 * - `work`: N·r·p at most 2^20, 8 times the seed's default;
 * - N < 2^(16·r), as scrypt itself requires (RFC 7914);
 * - ln 1..17, r 1..32, p 1..16, salt 8..64 bytes, hash 16..64 bytes.
 *
 * One verify at the bound costs 8 times the work of one at the seed's
 * defaults; measured side by side (median of 5, a busy 2-core machine), 3 to
 * 5 times its time: 0.55 to 0.9 s against 0.17 s, the slowest shape being
 * ln 16, r 4, p 4.
 */
export const SCRYPT_LIMITS = Object.freeze({
  ln: Object.freeze([1, 17] as const),
  r: Object.freeze([1, 32] as const),
  p: Object.freeze([1, 16] as const),
  saltBytes: Object.freeze([8, 64] as const),
  keyBytes: Object.freeze([16, 64] as const),
  memoryBytes: 32 * 1024 * 1024,
  work: 2 ** 20,
});

function toBytes(secret: string | Uint8Array): Buffer {
  if (typeof secret === 'string') return Buffer.from(secret, 'utf8');
  if (secret instanceof Uint8Array)
    return Buffer.from(secret.buffer, secret.byteOffset, secret.length);
  throw new TypeError('secret must be a string or a Uint8Array');
}

/**
 * Parse a PHC string: `$<id>[$v=<n>][$<name>=<value>[,...]][$<B64>[$<B64>]]`.
 * Stricter than the PHC spec (and `@phc/format`) where it matters: at most
 * 1024 characters, at least one field after the id (so `'$fake'` is
 * rejected), unique parameter names, B64 fields non-empty canonical unpadded
 * standard base64.
 * Parameter values may also contain `_` (key ids). A lone B64 field is
 * returned as `hash` (Tessera's salt-less formats); with two, the first is
 * `salt`.
 *
 * @param phc - the PHC string
 * @returns the parsed fields
 * @throws InvalidInputError (`ERR_TESSERA_INVALID_INPUT`) when `phc` is not a well-formed PHC string
 * @example `parsePhc('$scrypt$ln=14,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaA').params.ln // '14'`
 */
export function parsePhc(phc: string): ParsedPhc {
  if (typeof phc !== 'string') throw new InvalidInputError('PHC string must be a string');
  if (phc.length > MAX_PHC_LENGTH || !phc.startsWith('$')) {
    throw new InvalidInputError('PHC string must start with "$" and be at most 1024 characters');
  }
  const fields = phc.slice(1).split('$');
  const id = fields[0]!;
  if (!ID_RE.test(id)) throw new InvalidInputError('PHC id is malformed');
  if (fields.length < 2) throw new InvalidInputError('PHC string has no field after its id');
  const result: ParsedPhc = { id, params: Object.create(null) as Record<string, string> };
  let i = 1;
  const versionMatch = fields[i] === undefined ? null : VERSION_RE.exec(fields[i]!);
  if (versionMatch) {
    result.version = Number(versionMatch[1]);
    i++;
  }
  if (fields[i]?.includes('=')) {
    for (const pair of fields[i]!.split(',')) {
      const m = PARAM_RE.exec(pair);
      if (!m) throw new InvalidInputError('PHC parameter is malformed');
      if (Object.hasOwn(result.params, m[1]!)) {
        throw new InvalidInputError('PHC parameter is repeated');
      }
      result.params[m[1]!] = m[2]!;
    }
    i++;
  }
  const b64 = fields.slice(i);
  if (b64.length > 2) throw new InvalidInputError('PHC string has too many fields');
  const decoded = b64.map((field) => {
    if (field.length === 0) throw new InvalidInputError('PHC field is empty');
    return decodeStrictBase64Unpadded(field);
  });
  if (decoded.length === 2) {
    result.salt = decoded[0]!;
    result.hash = decoded[1]!;
  } else if (decoded.length === 1) {
    result.hash = decoded[0]!;
  }
  return result;
}

type OneShotHash = (algorithm: string, data: Uint8Array, encoding: 'latin1') => string;
// Node's one-shot `crypto.hash` (20.12+, 21.7+) skips the Hash object, and a
// latin1 string result skips the Buffer Node would otherwise create for each
// digest (an external backing store, costly to allocate and collect): for a
// 32-byte secret this is several times cheaper than `createHash(...).digest()`.
const oneShot = (crypto as unknown as { hash?: OneShotHash }).hash;

/**
 * Write the SHA-256 digest of `data` into `out` at `offset` (32 bytes), with
 * no allocation beyond a short string: the cheapest SHA-256 Node offers when
 * `out` is reused (a scratch buffer used synchronously).
 *
 * @param data - the bytes to hash
 * @param out - the buffer that receives the digest
 * @param offset - where in `out` (default 0); `out` needs 32 bytes from there
 * @throws RangeError when `out` has fewer than 32 bytes from `offset`
 * @example
 * ```ts
 * const scratch = Buffer.alloc(32);
 * sha256Into(secret, scratch);
 * timingSafeEqual(stored, scratch);
 * ```
 */
export function sha256Into(data: Uint8Array, out: Buffer, offset = 0): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || out.length - offset < 32) {
    throw new RangeError('out needs 32 bytes from offset');
  }
  if (oneShot === undefined) createHash('sha256').update(data).digest().copy(out, offset);
  else out.write(oneShot('sha256', data, 'latin1'), offset, 32, 'latin1');
}

/**
 * The SHA-256 digest of `data` as a 32-character latin1 string, one
 * character per byte (`Buffer.from(s, 'latin1')` gives the bytes back): what
 * Node's one-shot hash returns without allocating a Buffer or copying into
 * one. Compare such digests with {@link digestsEqual}.
 *
 * @param data - the bytes to hash
 * @returns the digest, characters `\u0000`..`\u00ff`
 * @example `digestsEqual(sha256Latin1(secret), stored.toString('latin1'))`
 */
export function sha256Latin1(data: Uint8Array): string {
  return oneShot === undefined
    ? createHash('sha256').update(data).digest('binary')
    : oneShot('sha256', data, 'latin1');
}

/**
 * Whether two digests written as latin1 strings (see {@link sha256Latin1})
 * are equal, in constant time: every character is compared, with no branch
 * on their values, so the time depends only on the length (which is public:
 * a digest's length is its algorithm's). Strings of different lengths are
 * unequal at once.
 *
 * @param a - a digest as a latin1 string
 * @param b - another digest as a latin1 string
 * @returns whether they are the same bytes
 * @example `digestsEqual(sha256Latin1(secret), expected) // true or false, same time`
 */
export function digestsEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * The SHA-256 digest of `data` as a new Buffer (see {@link sha256Into} to
 * reuse one).
 *
 * @param data - the bytes to hash
 * @returns the 32-byte digest
 * @example `sha256(Buffer.from('abc')).toString('hex') // 'ba7816bf...'`
 */
export function sha256(data: Uint8Array): Buffer {
  return oneShot === undefined
    ? createHash('sha256').update(data).digest()
    : Buffer.from(oneShot('sha256', data, 'latin1'), 'latin1');
}

/**
 * `$sha256$<B64 of SHA-256(secret)>`. No salt by design: use only for secrets
 * with at least 128 bits of entropy, which cannot be enumerated.
 *
 * @param secret - the secret (UTF-8 when a string)
 * @returns a 52-character PHC string
 * @throws TypeError when `secret` is neither a string nor a Uint8Array
 * @example `sha256Phc('abc') // '$sha256$ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0'`
 */
export function sha256Phc(secret: string | Uint8Array): string {
  return `$sha256$${encodeBase64Unpadded(sha256(toBytes(secret)))}`;
}

/**
 * Compare two strings (or byte strings) in constant time. Both sides are
 * hashed with SHA-256 first, so neither the content nor the lengths leak.
 *
 * @param a - first value (UTF-8 when a string)
 * @param b - second value (UTF-8 when a string)
 * @returns whether they are equal
 * @throws TypeError when a value is neither a string nor a Uint8Array
 * @example `timingSafeEqualStrings(presentedKey, configuredKey)`
 */
export function timingSafeEqualStrings(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const ha = createHash('sha256').update(toBytes(a)).digest();
  const hb = createHash('sha256').update(toBytes(b)).digest();
  return timingSafeEqual(ha, hb);
}

function hmac(key: Buffer, data: Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function assertKeyring(keyring: unknown): asserts keyring is Keyring {
  const k = keyring as Keyring | null;
  if (typeof k !== 'object' || k === null || typeof k.deriveKey !== 'function') {
    throw new TypeError('keyring must be a Keyring (see createKeyring)');
  }
}

/**
 * A hasher bound to a keyring and an HKDF purpose. `hash` uses
 * `keyring.deriveKey(purpose)`; `digest` uses `keyring.deriveKey(purpose + '.digest')`,
 * so a digest can never equal a hash.
 *
 * @param keyring - the server keys
 * @param purpose - HKDF purpose, 1..200 characters (default `'hash'`)
 * @returns an {@link HmacHasher}
 * @throws TypeError when `keyring` is not a keyring or `purpose` is not a 1..200 character string
 * @example
 * ```ts
 * const hasher = createHmacHasher(keyring);
 * const stored = hasher.hash(token);                      // '$hmac-sha256$k=k1$...'
 * const codeKey = hasher.digest([owner, 'login', code]);  // lookup key for a short code
 * ```
 */
export function createHmacHasher(keyring: Keyring, purpose = 'hash'): HmacHasher {
  assertKeyring(keyring);
  if (typeof purpose !== 'string' || purpose.length < 1 || purpose.length > 200) {
    throw new TypeError('purpose must be a string of 1..200 characters');
  }
  const digestPurpose = `${purpose}.digest`;
  const digest = (parts: readonly string[], keyId: string = keyring.activeId): string =>
    hmac(keyring.deriveKey(digestPurpose, keyId), encodeLengthPrefixed(parts)).toString(
      'base64url',
    );
  return Object.freeze({
    hash(secret: string | Uint8Array): string {
      const mac = hmac(keyring.deriveKey(purpose, keyring.activeId), toBytes(secret));
      return `$hmac-sha256$k=${keyring.activeId}$${encodeBase64Unpadded(mac)}`;
    },
    digest,
    digestAll(parts: readonly string[]) {
      const ids = [keyring.activeId, ...keyring.ids.filter((id) => id !== keyring.activeId)];
      return ids.map((keyId) => digest(parts, keyId));
    },
    verify(secret: string | Uint8Array, phc: string) {
      return verifyPhc(secret, phc, { keyring, purpose });
    },
  });
}

function scryptAsync(
  secret: Buffer,
  salt: Buffer,
  keyBytes: number,
  N: number,
  r: number,
  p: number,
): Promise<Buffer> {
  // OpenSSL needs 128*r*(N + p + 2) bytes; add slack for bookkeeping.
  const maxmem = 128 * r * (N + p + 2) + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, keyBytes, { N, r, p, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/**
 * Why scrypt parameters are out of {@link SCRYPT_LIMITS}, or `undefined` when
 * they are within them.
 *
 * @param o - ln, r, p, and the salt and hash sizes in bytes
 * @returns a message naming the first bound broken (e.g. `'N*r*p must be at most 2^20'`)
 * @example `scryptParamsError({ ln: 14, r: 8, p: 1, saltBytes: 16, keyBytes: 32 }) // undefined`
 */
export function scryptParamsError(o: Required<ScryptPhcOptions>): string | undefined {
  const inRange = (v: number, [lo, hi]: readonly [number, number]) =>
    Number.isSafeInteger(v) && v >= lo && v <= hi;
  const L = SCRYPT_LIMITS;
  if (!inRange(o.ln, L.ln)) return `ln must be in ${L.ln[0]}..${L.ln[1]}`;
  if (!inRange(o.r, L.r)) return `r must be in ${L.r[0]}..${L.r[1]}`;
  if (!inRange(o.p, L.p)) return `p must be in ${L.p[0]}..${L.p[1]}`;
  const N = 2 ** o.ln;
  if (128 * N * o.r > L.memoryBytes) return '128*N*r must be at most 32 MiB';
  if (N * o.r * o.p > L.work) return 'N*r*p must be at most 2^20';
  if (o.ln >= 16 * o.r) return 'N must be below 2^(16*r)';
  if (!inRange(o.saltBytes, L.saltBytes)) {
    return `saltBytes must be in ${L.saltBytes[0]}..${L.saltBytes[1]}`;
  }
  if (!inRange(o.keyBytes, L.keyBytes)) {
    return `keyBytes must be in ${L.keyBytes[0]}..${L.keyBytes[1]}`;
  }
  return undefined;
}

const fail = (reason: VerifyPhcReason, cause?: unknown): VerifyPhcResult =>
  cause === undefined ? { valid: false, reason } : { valid: false, reason, cause };

const paramsError = (message: string) =>
  fail('invalid_parameters', new InvalidInputError(message, 'phc'));

function onlyParams(parsed: ParsedPhc, allowed: readonly string[]): boolean {
  return Object.keys(parsed.params).every((name) => allowed.includes(name));
}

async function verifyScrypt(secret: Buffer, parsed: ParsedPhc): Promise<VerifyPhcResult> {
  const { params, salt, hash } = parsed;
  if (parsed.version !== undefined || !onlyParams(parsed, ['ln', 'r', 'p'])) {
    return paramsError('scrypt PHC has unexpected fields');
  }
  const raw = [params.ln, params.r, params.p];
  if (salt === undefined || hash === undefined || raw.some((v) => v === undefined)) {
    return paramsError('scrypt PHC needs ln, r, p, a salt and a hash');
  }
  if (raw.some((v) => !DECIMAL_RE.test(v!)))
    return paramsError('scrypt parameters must be integers');
  const [ln, r, p] = raw.map(Number) as [number, number, number];
  const bounds = scryptParamsError({ ln, r, p, saltBytes: salt.length, keyBytes: hash.length });
  if (bounds !== undefined) return paramsError(bounds);
  let computed: Buffer;
  try {
    computed = await scryptAsync(secret, salt, hash.length, 2 ** ln, r, p);
  } catch (err) {
    return fail('invalid_parameters', err);
  }
  return timingSafeEqual(computed, hash) ? { valid: true } : fail('invalid_secret');
}

function verifyHmac(
  secret: Buffer,
  parsed: ParsedPhc,
  keyring: Keyring | undefined,
  purpose: string,
): VerifyPhcResult {
  const { hash } = parsed;
  const keyId = parsed.params.k;
  if (parsed.version !== undefined || parsed.salt !== undefined || !onlyParams(parsed, ['k'])) {
    return paramsError('hmac-sha256 PHC has unexpected fields');
  }
  if (keyId === undefined || hash === undefined || hash.length !== 32) {
    return paramsError('hmac-sha256 PHC needs k and a 32-byte hash');
  }
  if (keyring === undefined) return paramsError('hmac-sha256 PHC needs a keyring');
  if (!keyring.ids.includes(keyId)) return paramsError('hmac-sha256 PHC names an unknown key id');
  const mac = hmac(keyring.deriveKey(purpose, keyId), secret);
  return timingSafeEqual(mac, hash) ? { valid: true } : fail('invalid_secret');
}

function verifySha256(secret: Buffer, parsed: ParsedPhc): VerifyPhcResult {
  const { hash } = parsed;
  if (
    parsed.version !== undefined ||
    parsed.salt !== undefined ||
    Object.keys(parsed.params).length > 0 ||
    hash === undefined ||
    hash.length !== 32
  ) {
    return paramsError('sha256 PHC must be exactly a 32-byte hash');
  }
  const digest = createHash('sha256').update(secret).digest();
  return timingSafeEqual(digest, hash) ? { valid: true } : fail('invalid_secret');
}

/**
 * Verify `secret` against a stored PHC string in constant time. Never throws
 * for bad stored data; the result says why verification failed:
 *
 * - `invalid_phc`: not a parseable PHC string (including non-canonical B64), `cause` set;
 * - `unsupported_algorithm`: id other than `sha256`, `hmac-sha256`, `scrypt`;
 * - `invalid_parameters`: missing, unexpected or out-of-bounds fields (scrypt: see
 *   {@link SCRYPT_LIMITS}: 128·N·r <= 32 MiB, N·r·p <= 2^20, checked before any scrypt
 *   work), an unknown HMAC key id, or no keyring;
 * - `invalid_secret`: well-formed, but the secret does not match.
 *
 * @param secret - the presented secret (UTF-8 when a string)
 * @param phc - the stored PHC string
 * @param options - `keyring` for `$hmac-sha256$`; `purpose` (default `'hash'`)
 * @returns `{ valid: true }` or `{ valid: false, reason, cause? }`
 * @throws TypeError when `secret` is neither a string nor a Uint8Array
 * @example
 * ```ts
 * const r = await verifyPhc(secret, record.secretPhc, { keyring });
 * if (!r.valid) log.info({ reason: r.reason });
 * ```
 */
export async function verifyPhc(
  secret: string | Uint8Array,
  phc: string,
  options: VerifyPhcOptions = {},
): Promise<VerifyPhcResult> {
  const bytes = toBytes(secret);
  let parsed: ParsedPhc;
  try {
    parsed = parsePhc(phc);
  } catch (err) {
    return fail('invalid_phc', err);
  }
  switch (parsed.id) {
    case 'sha256':
      return verifySha256(bytes, parsed);
    case 'hmac-sha256':
      return verifyHmac(bytes, parsed, options.keyring, options.purpose ?? 'hash');
    case 'scrypt':
      return verifyScrypt(bytes, parsed);
    default:
      return fail('unsupported_algorithm');
  }
}

/**
 * Hash `secret` with scrypt into `$scrypt$ln=<ln>,r=<r>,p=<p>$<salt B64>$<hash B64>`,
 * exactly as `@access-tokens/core` writes it, for the strict compatibility mode.
 * With the defaults: `$scrypt$ln=14,r=8,p=1$` + 22-character salt + `$` + 43-character hash.
 *
 * @param secret - the secret (UTF-8 when a string)
 * @param options - `ln` (default 14), `r` (8), `p` (1), `saltBytes` (16), `keyBytes` (32);
 *   same bounds as {@link verifyPhc} accepts
 * @returns the PHC string
 * @throws RangeError when a parameter is out of bounds
 * @throws TypeError when `secret` is neither a string nor a Uint8Array
 * @example `const phc = await scryptPhc(secret); // '$scrypt$ln=14,r=8,p=1$...$...'`
 */
export async function scryptPhc(
  secret: string | Uint8Array,
  { ln = 14, r = 8, p = 1, saltBytes = 16, keyBytes = 32 }: ScryptPhcOptions = {},
): Promise<string> {
  const bytes = toBytes(secret);
  const bounds = scryptParamsError({ ln, r, p, saltBytes, keyBytes });
  if (bounds !== undefined) throw new RangeError(bounds);
  const salt = randomBytes(saltBytes);
  const hash = await scryptAsync(bytes, salt, keyBytes, 2 ** ln, r, p);
  return `$scrypt$ln=${ln},r=${r},p=${p}$${encodeBase64Unpadded(salt)}$${encodeBase64Unpadded(hash)}`;
}
