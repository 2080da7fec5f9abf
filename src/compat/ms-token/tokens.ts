/**
 * Decoding the tokens the facade accepts: Tessera's sealed format (AES-256-GCM,
 * what the facade issues) and, for migration, ms-token's `v1` format, which it
 * reads and never writes:
 * `base64url("v1" || IV (16 bytes) || cipher(algorithm, key = sharedSecret, IV)(JSON {id, action, uid, token}))`
 * with `aes256` (AES-256-CBC, no MAC) in practice.
 * @module
 */
import { ok } from 'node:assert';
import { createDecipheriv } from 'node:crypto';
import { looksSealed, type TokenCodec, type TokenPayload } from '../../challenges/sealing.js';

/** A decoded token. */
export type DecodedToken =
  /** A Tessera sealed token: pass it on as is. */
  | { readonly kind: 'sealed'; readonly token: string; readonly payload: TokenPayload }
  /** An ms-token `v1` token: its fields, as ms-token's `extractSecret` returns them. */
  | { readonly kind: 'v1'; readonly payload: Record<string, unknown> & { token: string } };

const V1 = Buffer.from('v1');
const IV_BYTES = 16;

/** ms-token's `decrypt`: the `v1` layout, or `Error('using incompatible version')`. */
function decryptV1(input: string, algorithm: string, key: Buffer): string {
  const bytes = Buffer.from(input, 'base64url');
  if (!V1.equals(bytes.subarray(0, V1.length))) throw new Error('using incompatible version');
  if (bytes.length <= V1.length + IV_BYTES) throw new Error('nonce not present');
  const iv = bytes.subarray(V1.length, V1.length + IV_BYTES);
  const decipher = createDecipheriv(algorithm, key, iv);
  return Buffer.concat([
    decipher.update(bytes.subarray(V1.length + IV_BYTES)),
    decipher.final(),
  ]).toString();
}

/**
 * Decode a token string.
 *
 * @param input - the token as the caller passed it
 * @param codec - the Tessera token codec
 * @param algorithm - ms-token's `encrypt.algorithm` (for `v1` tokens)
 * @param key - ms-token's `encrypt.sharedSecret` bytes (for `v1` tokens)
 * @throws Error `'invalid token'` when it cannot be decoded
 * @throws AssertionError `'token must be a truthy string'` when a `v1` payload carries no secret
 * @example `decodeToken(token, codec, 'aes256', secret).kind // 'sealed' or 'v1'`
 */
export function decodeToken(
  input: string,
  codec: TokenCodec,
  algorithm: string,
  key: Buffer,
): DecodedToken {
  if (looksSealed(input)) {
    try {
      return { kind: 'sealed', token: input, payload: codec.open(input) };
    } catch {
      throw new Error('invalid token');
    }
  }
  let payload: unknown;
  try {
    payload = JSON.parse(decryptV1(input, algorithm, key));
  } catch {
    throw new Error('invalid token');
  }
  // As ms-token: a truncated payload must not verify a challenge by action + id alone.
  const p = payload as Record<string, unknown>;
  ok(p.token && typeof p.token === 'string', 'token must be a truthy string');
  return { kind: 'v1', payload: p as Record<string, unknown> & { token: string } };
}
