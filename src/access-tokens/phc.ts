/**
 * The PHC strings of token secrets: writing them with the configured hash, and
 * checking a stored or supplied one without a secret (for `register`,
 * `update({ secretPhc })` and the bootstrap PHC). Verification itself is the
 * core's {@link verifyPhc}, bounded and constant-time.
 * @module
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { decodeStrictBase64Unpadded } from '../core/encoding/base64url.js';
import {
  createHmacHasher,
  digestsEqual,
  type ParsedPhc,
  parsePhc,
  type ScryptPhcOptions,
  scryptParamsError,
  scryptPhc,
  sha256Latin1,
  sha256Phc,
  type VerifyPhcResult,
  verifyPhc,
} from '../core/hashing.js';
import type { Keyring } from '../core/keyring.js';
import type { SecretHash } from './types.js';

/** HKDF purpose of the HMAC key that hashes token secrets. */
export const HMAC_PURPOSE = 'access-tokens';

/** Why a PHC string cannot verify any secret (the seed's reason strings). */
export type PhcProblem = 'invalid_phc' | 'unsupported_algorithm' | 'invalid_parameters';

const DECIMAL_RE = /^(0|[1-9][0-9]{0,8})$/;

function onlyParams(parsed: ParsedPhc, allowed: readonly string[]): boolean {
  return Object.keys(parsed.params).every((name) => allowed.includes(name));
}

/**
 * Reason scrypt parameters are out of the core's bounds (`SCRYPT_LIMITS`,
 * the same ones `verifyPhc` enforces), or undefined.
 */
export function scryptParamsProblem(o: Required<ScryptPhcOptions>): string | undefined {
  return scryptParamsError(o);
}

function scryptProblem(parsed: ParsedPhc): PhcProblem | undefined {
  const { params, salt, hash } = parsed;
  if (parsed.version !== undefined || !onlyParams(parsed, ['ln', 'r', 'p'])) {
    return 'invalid_parameters';
  }
  const raw = [params.ln, params.r, params.p];
  if (salt === undefined || hash === undefined) return 'invalid_parameters';
  if (raw.some((v) => v === undefined || !DECIMAL_RE.test(v))) return 'invalid_parameters';
  const [ln, r, p] = raw.map(Number) as [number, number, number];
  const problem = scryptParamsProblem({ ln, r, p, saltBytes: salt.length, keyBytes: hash.length });
  return problem === undefined ? undefined : 'invalid_parameters';
}

/**
 * Whether a PHC string could verify a secret, judged without one: the same
 * rules as the core's `verifyPhc` (`$sha256$`, `$hmac-sha256$` with a key id
 * of `keyring`, bounded `$scrypt$`).
 *
 * @param phc - the PHC string (any value)
 * @param keyring - the keyring `$hmac-sha256$` strings must name a key of
 * @returns the problem, or `undefined` when the string is usable
 * @example `phcProblem('$fake') // 'invalid_phc'`
 */
export function phcProblem(phc: unknown, keyring: Keyring | undefined): PhcProblem | undefined {
  if (typeof phc !== 'string') return 'invalid_phc';
  let parsed: ParsedPhc;
  try {
    parsed = parsePhc(phc);
  } catch {
    return 'invalid_phc';
  }
  const { hash } = parsed;
  switch (parsed.id) {
    case 'sha256':
      return parsed.version === undefined &&
        parsed.salt === undefined &&
        Object.keys(parsed.params).length === 0 &&
        hash?.length === 32
        ? undefined
        : 'invalid_parameters';
    case 'hmac-sha256': {
      const keyId = parsed.params.k;
      const ok =
        parsed.version === undefined &&
        parsed.salt === undefined &&
        onlyParams(parsed, ['k']) &&
        keyId !== undefined &&
        hash?.length === 32 &&
        keyring?.ids.includes(keyId) === true;
      return ok ? undefined : 'invalid_parameters';
    }
    case 'scrypt':
      return scryptProblem(parsed);
    default:
      return 'unsupported_algorithm';
  }
}

/**
 * A stored PHC string parsed once (per record version) for the fast checks:
 * the digest bytes of a well-formed `$sha256$` or `$hmac-sha256$` string
 * (a SHA-256 one also as a latin1 string, see `sha256Latin1`); anything else
 * is left to the core's `verifyPhc`.
 */
export type PreparedPhc =
  | {
      readonly kind: 'sha256';
      readonly phc: string;
      readonly hash: Buffer;
      /** `hash` as a latin1 string, compared with `digestsEqual`. */
      readonly latin1: string;
    }
  | { readonly kind: 'hmac'; readonly phc: string; readonly keyId: string; readonly hash: Buffer }
  | { readonly kind: 'core'; readonly phc: string };

const SHA256_HEAD = '$sha256$';
const HMAC_RE = /^\$hmac-sha256\$k=([A-Za-z0-9_-]{1,32})\$([A-Za-z0-9+/]{43})$/;
const B64_32_LENGTH = 43;

function decode32(text: string): Buffer | undefined {
  try {
    return decodeStrictBase64Unpadded(text, 32);
  } catch {
    return undefined;
  }
}

/**
 * Parse a stored PHC string for {@link SecretHasher.check}.
 *
 * @param phc - the stored string
 * @returns its digest bytes for well-formed SHA-256 and HMAC strings, else `kind: 'core'`
 * @example `preparePhc(sha256Phc(secret)).kind // 'sha256'`
 */
export function preparePhc(phc: string): PreparedPhc {
  if (phc.length === SHA256_HEAD.length + B64_32_LENGTH && phc.startsWith(SHA256_HEAD)) {
    const hash = decode32(phc.slice(SHA256_HEAD.length));
    if (hash !== undefined) return { kind: 'sha256', phc, hash, latin1: hash.toString('latin1') };
  } else if (phc.startsWith('$hmac-sha256$')) {
    const m = HMAC_RE.exec(phc);
    const hash = m === null ? undefined : decode32(m[2]!);
    if (hash !== undefined) return { kind: 'hmac', phc, keyId: m![1]!, hash };
  }
  return { kind: 'core', phc };
}

/** Hashes new secrets and verifies presented ones. */
export interface SecretHasher {
  /** PHC string of `secret` under the configured hash. */
  hash(secret: Buffer): Promise<string>;
  /**
   * Check a secret against a prepared PHC string without waiting: the
   * outcome for SHA-256 and HMAC strings (an HMAC one only when the keyring
   * has its key), else a promise of the core's {@link verifyPhc}. Same
   * outcomes as {@link SecretHasher.verify}.
   * @param sha256 - the SHA-256 of `secret`, when already known
   */
  check(
    secret: Buffer,
    phc: PreparedPhc,
    sha256?: Buffer,
  ): VerifyPhcResult | Promise<VerifyPhcResult>;
  /**
   * The core's bounded, constant-time verification, with this hasher's
   * keyring. Well-formed `$sha256$` and `$hmac-sha256$` strings take a fast
   * path with the same outcome (pass `sha256` when the SHA-256 of the secret
   * is already known); anything else goes through the core's `verifyPhc`.
   */
  verify(secret: Buffer, phc: string, sha256?: Buffer): Promise<VerifyPhcResult>;
  /**
   * Spend what a wrong-secret check of a SHA-256 or HMAC hash spends, so an
   * unknown token id answers in about the time a wrong secret does.
   * @returns the outcome of that comparison (returned so it is never optimized away)
   */
  spend(secret: Buffer): boolean;
}

const EMPTY_32 = Buffer.alloc(32);
const EMPTY_32_LATIN1 = EMPTY_32.toString('latin1');
const VALID: VerifyPhcResult = Object.freeze({ valid: true });
const WRONG: VerifyPhcResult = Object.freeze({ valid: false, reason: 'invalid_secret' });

/**
 * A hasher for token secrets.
 *
 * @param kind - the hash of new secrets
 * @param keyring - needed for `hmac-sha256` (and to verify such strings)
 * @param scrypt - scrypt parameters (complete)
 * @throws TypeError when `kind` is `hmac-sha256` without a keyring
 * @example `const phc = await createSecretHasher('sha256').hash(secret);`
 */
export function createSecretHasher(
  kind: SecretHash,
  keyring?: Keyring,
  scrypt?: Required<ScryptPhcOptions>,
): SecretHasher {
  const hmac = keyring === undefined ? undefined : createHmacHasher(keyring, HMAC_PURPOSE);
  let hash: (secret: Buffer) => Promise<string>;
  if (kind === 'sha256') {
    hash = async (secret) => sha256Phc(secret);
  } else if (kind === 'hmac-sha256') {
    if (hmac === undefined) throw new TypeError('hash "hmac-sha256" needs a keyring');
    hash = async (secret) => hmac.hash(secret);
  } else {
    hash = (secret) => scryptPhc(secret, scrypt);
  }
  const options = keyring === undefined ? {} : { keyring, purpose: HMAC_PURPOSE };

  function check(
    secret: Buffer,
    prepared: PreparedPhc,
    digest?: Buffer,
  ): VerifyPhcResult | Promise<VerifyPhcResult> {
    if (prepared.kind === 'sha256') {
      // Without a known digest, the SHA-256 as a latin1 string: no Buffer to allocate or fill.
      if (digest === undefined)
        return digestsEqual(sha256Latin1(secret), prepared.latin1) ? VALID : WRONG;
      return timingSafeEqual(prepared.hash, digest) ? VALID : WRONG;
    }
    if (prepared.kind === 'hmac' && keyring !== undefined && keyring.ids.includes(prepared.keyId)) {
      const mac = createHmac('sha256', keyring.deriveKey(HMAC_PURPOSE, prepared.keyId))
        .update(secret)
        .digest();
      return timingSafeEqual(prepared.hash, mac) ? VALID : WRONG;
    }
    return verifyPhc(secret, prepared.phc, options);
  }

  return Object.freeze({
    hash,
    check,
    spend(secret: Buffer) {
      // The work of a wrong-secret `check` of the kind of hash a keyring implies.
      if (keyring === undefined) {
        return digestsEqual(sha256Latin1(secret), EMPTY_32_LATIN1);
      }
      const mac = createHmac('sha256', keyring.deriveKey(HMAC_PURPOSE)).update(secret).digest();
      return timingSafeEqual(mac, EMPTY_32);
    },
    async verify(secret: Buffer, phc: string, digest?: Buffer) {
      return check(secret, preparePhc(phc), digest);
    },
  });
}
