/**
 * Minting cost: Tessera's EdDSA `sign()` against a raw node:crypto Ed25519
 * signature over the same bytes and against `jose`'s SignJWT, in one process,
 * interleaved, median of RUNS runs.
 *
 *   npx tsx bench/jwt-mint.ts            (RUNS=7, 1 s per measurement)
 *   RUNS=9 MS=2000 npx tsx bench/jwt-mint.ts
 *
 * The target: Tessera within 1.5x of raw signing (ratio raw/tessera >= 0.67).
 */
import { createPrivateKey, sign } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';
import { buildSignerVerifier, generateKeySet } from '../src/jwt/index.js';

const RUNS = Number(process.env.RUNS ?? 7);
const MS = Number(process.env.MS ?? 1000);

const keySet = await generateKeySet('bench-1', 'EdDSA');
const sv = await buildSignerVerifier({ keySet, issuer: 'https://auth.example.com', ttl: '10m' });
const jwk = keySet.private_keys[0]!;
const keyObject = createPrivateKey({ key: jwk as never, format: 'jwk' });
const joseKey = await importJWK(jwk, 'EdDSA');
const claims = {
  sub: '4Hq0rT2mZ8xYb1cVd3eWf',
  owner: 'alice@example.com',
  admin: false,
  roles: ['reader', 'editor'],
};

// The exact bytes Tessera signs, so the raw baseline signs the same input.
const sample = await sv.sign(claims);
const signingInput = Buffer.from(sample.slice(0, sample.lastIndexOf('.')), 'latin1');

async function measure(fn: () => unknown | Promise<unknown>): Promise<number> {
  // warm-up
  for (let i = 0; i < 200; i++) await fn();
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < MS) {
    for (let i = 0; i < 100; i++) await fn();
    n += 100;
    elapsed = performance.now() - start;
  }
  return (n * 1000) / elapsed;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

const candidates: Record<string, () => unknown | Promise<unknown>> = {
  'raw node:crypto Ed25519 sign': () => sign(null, signingInput, keyObject),
  'tessera sign (EdDSA)': () => sv.sign(claims),
  'jose SignJWT (EdDSA)': () =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: 'bench-1', typ: 'JWT' })
      .setIssuer('https://auth.example.com')
      .setIssuedAt()
      .setExpirationTime('10m')
      .setJti('4Hq0rT2mZ8xYb1cVd3eWf5')
      .sign(joseKey),
};

const results: Record<string, number[]> = {};
for (const name of Object.keys(candidates)) results[name] = [];
for (let run = 0; run < RUNS; run++) {
  for (const [name, fn] of Object.entries(candidates)) {
    results[name]!.push(await measure(fn));
  }
}

const raw = median(results['raw node:crypto Ed25519 sign']!);
console.log(`node ${process.version}, ${RUNS} runs x ${MS} ms, interleaved; median ops/s`);
for (const [name, xs] of Object.entries(results)) {
  const m = median(xs);
  console.log(
    `${name.padEnd(30)} ${m.toFixed(0).padStart(8)} ops/s   cost vs raw ${(raw / m).toFixed(2)}x   runs: ${xs
      .map((x) => x.toFixed(0))
      .join(' ')}`,
  );
}
const ratio = raw / median(results['tessera sign (EdDSA)']!);
console.log(`tessera minting costs ${ratio.toFixed(2)}x raw signing (target <= 1.5x)`);
