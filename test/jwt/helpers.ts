import { createHmac, createPrivateKey, type KeyObject, sign } from 'node:crypto';
import type { JWK } from 'jose';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');

/** Build a compact JWS by hand, signed by `signer` over `header.payload`. */
export function forge(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  signer: (input: Buffer) => Buffer,
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${signer(Buffer.from(input)).toString('base64url')}`;
}

/** An Ed25519 signer from a private JWK. */
export function ed25519Signer(jwk: JWK): (input: Buffer) => Buffer {
  const key: KeyObject = createPrivateKey({ key: jwk as never, format: 'jwk' });
  return (input) => sign(null, input, key);
}

/** An HMAC-SHA-256 signer keyed with `secret`. */
export function hmacSigner(secret: string | Buffer): (input: Buffer) => Buffer {
  return (input) => createHmac('sha256', secret).update(input).digest();
}

/** Split a compact JWS into decoded header, payload and the raw parts. */
export function decode(jws: string) {
  const [h, p, s] = jws.split('.') as [string, string, string];
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>,
    parts: [h, p, s] as const,
  };
}
