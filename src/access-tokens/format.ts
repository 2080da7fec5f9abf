/**
 * Token strings: writing and strict parsing of both formats.
 *
 * - `tessera`: `<prefix><id><secret><checksum>` where `id` is 21 base62
 *   characters, `secret` the canonical unpadded base64url of `secretBytes`
 *   random bytes (43 characters for 32 bytes) and `checksum` the CRC-32 of
 *   everything before it, as 6 base62 digits. A wrong checksum is rejected
 *   before any store read.
 * - `legacy` (`@access-tokens/core`): `<prefix><id>.<secret>` with the secret
 *   in canonical padded standard base64 (44 characters ending in `=` for 32
 *   bytes).
 *
 * Only canonical encodings parse, so no two different strings parse to the
 * same (format, id, secret): the seed's lax decoder also accepted dropped
 * padding, appended junk, the url-safe alphabet and characters such as `@`.
 *
 * @example
 * ```ts
 * const codec = createTokenCodec({ prefix: 'pat_' });
 * const token = codec.format(generateTokenId(), randomBytes(32), 'tessera');
 * codec.parse(token); // { ok: true, tokenId, secret, format: 'tessera' }
 * ```
 * @module
 */
import { BASE62_ALPHABET } from '../core/encoding/base62.js';
import { encodeBase64url } from '../core/encoding/base64url.js';
import { crc32 } from '../core/encoding/crc32.js';
import { randomId62 } from '../core/random.js';
import { createTokenScanner } from './scan.js';
import type { TokenFormat } from './types.js';

/** Length of a token id. */
export const TOKEN_ID_LENGTH = 21;

/** Every token id matches this: exactly 21 base62 characters (as the seed's `id62`). */
export const TOKEN_ID_PATTERN = /^[A-Za-z0-9]{21}$/;

/** Longest token string accepted (the seed's `MAX_TOKEN_LENGTH`). */
export const MAX_TOKEN_LENGTH = 200;

/** Length of the checksum of a `tessera` token. */
export const CHECKSUM_LENGTH = 6;

/** The default prefix (the seed's). */
export const DEFAULT_PREFIX = 'pat_';

const PREFIX_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

/** Result of {@link TokenCodec.parse}. */
export type ParsedToken =
  | {
      readonly ok: true;
      readonly tokenId: string;
      /** The decoded secret bytes (what the stored hash is computed over). */
      readonly secret: Buffer;
      readonly format: TokenFormat;
    }
  | { readonly ok: false; readonly reason: 'invalid_prefix' | 'invalid_format' };

/** Writes and parses token strings for one prefix and secret size. */
export interface TokenCodec {
  readonly prefix: string;
  readonly secretBytes: number;
  /**
   * Write a token string.
   * @throws RangeError when `tokenId` is not 21 base62 characters or `secret` is not `secretBytes` long
   */
  format(tokenId: string, secret: Uint8Array, format: TokenFormat): string;
  /** Parse an untrusted token string; never throws. */
  parse(token: unknown): ParsedToken;
}

/** Options of {@link createTokenCodec}. */
export interface TokenCodecOptions {
  /** 1..32 characters of `A-Za-z0-9_-`, starting with a letter or digit (default `pat_`). */
  readonly prefix?: string;
  /** Secret size in bytes, 16..64 (default 32). */
  readonly secretBytes?: number;
}

/**
 * Whether `value` is a token id (21 base62 characters).
 * @example `isTokenId('34NwRzvnBbgI3uedkrQ3Q') // true`
 */
export function isTokenId(value: unknown): value is string {
  return typeof value === 'string' && TOKEN_ID_PATTERN.test(value);
}

/**
 * A new random token id: 21 base62 characters (about 125 bits), the shape of
 * the seed's `id62()`.
 * @example `generateTokenId() // '4Hq0rT2mZ8xYb1cVd3eWf'`
 */
export function generateTokenId(): string {
  return randomId62(TOKEN_ID_LENGTH);
}

/**
 * The checksum of a `tessera` token: CRC-32 of `text` as 6 base62 digits,
 * left-padded with `0`. Detects typos; it is not a MAC.
 * @example `tokenChecksum('pat_...') // '2xY9aB'`
 */
export function tokenChecksum(text: string): string {
  // Same digits as encodeBase62(<4 bytes, big-endian>, 6), with plain number arithmetic
  // (a CRC-32 fits a double exactly).
  let value = crc32(text);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62_ALPHABET[value % 62]! + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/**
 * Create a codec for token strings.
 *
 * @param options - `prefix` (default `pat_`) and `secretBytes` (default 32)
 * @returns a frozen {@link TokenCodec}
 * @throws TypeError when the prefix is not 1..32 characters of `A-Za-z0-9_-` starting with a
 *   letter or digit
 * @throws RangeError when `secretBytes` is not an integer in 16..64
 * @example
 * ```ts
 * const codec = createTokenCodec();
 * const parsed = codec.parse(req.headers.authorization?.slice(7));
 * if (!parsed.ok) return deny(parsed.reason);
 * ```
 */
export function createTokenCodec(options: TokenCodecOptions = {}): TokenCodec {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  if (typeof prefix !== 'string' || !PREFIX_RE.test(prefix)) {
    throw new TypeError(
      'prefix must be 1..32 characters of A-Za-z0-9_-, starting with a letter or digit',
    );
  }
  const secretBytes = options.secretBytes ?? 32;
  if (!Number.isSafeInteger(secretBytes) || secretBytes < 16 || secretBytes > 64) {
    throw new RangeError('secretBytes must be an integer in 16..64');
  }
  const scan = createTokenScanner({
    prefix,
    secretBytes,
    idLength: TOKEN_ID_LENGTH,
    checksumLength: CHECKSUM_LENGTH,
  });

  function format(tokenId: string, secret: Uint8Array, kind: TokenFormat): string {
    if (!isTokenId(tokenId)) throw new RangeError('tokenId must be 21 base62 characters');
    if (!(secret instanceof Uint8Array) || secret.length !== secretBytes) {
      throw new RangeError(`secret must be ${secretBytes} bytes`);
    }
    if (kind === 'legacy') {
      return `${prefix}${tokenId}.${Buffer.from(secret).toString('base64')}`;
    }
    const head = `${prefix}${tokenId}${encodeBase64url(secret)}`;
    return head + tokenChecksum(head);
  }

  const invalidPrefix = Object.freeze({ ok: false, reason: 'invalid_prefix' } as const);
  const invalidFormat = Object.freeze({ ok: false, reason: 'invalid_format' } as const);

  function parse(token: unknown): ParsedToken {
    if (typeof token !== 'string') return invalidFormat;
    if (!token.startsWith(prefix)) return invalidPrefix;
    if (token.length > MAX_TOKEN_LENGTH) return invalidFormat;
    return scan(token) ?? invalidFormat;
  }

  return Object.freeze({ prefix, secretBytes, format, parse });
}
