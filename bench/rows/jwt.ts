/**
 * Row 2: JWT minting (EdDSA) against a raw node:crypto Ed25519 signature over
 * the same bytes; JWT verification against `jose`'s jwtVerify of the same token.
 */
import { createPrivateKey, sign } from 'node:crypto';
import { importJWK, jwtVerify } from 'jose';
import { buildSignerVerifier, generateKeySet } from '../../src/jwt/index.js';
import type { Row } from '../harness.js';

/** The rows this file contributes. */
export async function jwtRows(): Promise<Row[]> {
  const issuer = 'https://auth.example.com';
  const keySet = await generateKeySet('bench-1', 'EdDSA');
  const sv = await buildSignerVerifier({ keySet, issuer, ttl: '10m' });
  const jwk = keySet.private_keys[0]!;
  const keyObject = createPrivateKey({ key: jwk as never, format: 'jwk' });
  const claims = {
    sub: '4Hq0rT2mZ8xYb1cVd3eWf',
    owner: 'alice@example.com',
    admin: false,
    roles: ['reader', 'editor'],
  };
  // The exact bytes Tessera signs, so the raw baseline signs the same input.
  const sample = await sv.sign(claims);
  const signingInput = Buffer.from(sample.slice(0, sample.lastIndexOf('.')), 'latin1');
  const { d: _d, ...publicJwk } = jwk as unknown as Record<string, unknown>;
  const publicKey = await importJWK(publicJwk as never, 'EdDSA');
  return [
    {
      id: 'jwt-mint',
      title: 'JWT mint (EdDSA) vs raw Ed25519 sign',
      subject: { name: 'Tessera sign()', op: () => sv.sign(claims) },
      baseline: {
        name: 'node:crypto sign(Ed25519)',
        op: () => sign(null, signingInput, keyObject),
      },
      target: 0.7,
    },
    {
      id: 'jwt-verify',
      title: 'JWT verify (EdDSA) vs jose jwtVerify',
      subject: { name: 'Tessera verify()', op: () => sv.verify(sample) },
      baseline: {
        name: 'jose jwtVerify',
        op: () => jwtVerify(sample, publicKey, { issuer, algorithms: ['EdDSA'] }),
      },
    },
  ];
}
