/**
 * Row 1: PAT `verify()` in-process on the memory store, against two baselines:
 * - @access-tokens/core's default verify: scrypt (N=16384, r=8, p=1, 16-byte
 *   salt, 64-byte key), reimplemented from its documented parameters;
 * - the bare ceiling: SHA-256 of the secret, a Map lookup and a constant-time
 *   compare, with no parsing checks, no store, no record checks and no async.
 *   It hashes the way Tessera does, the cheapest SHA-256 Node offers: the
 *   one-shot `crypto.hash` with a latin1 ('binary') string result written
 *   into a reused buffer (no Hash object and no Buffer per digest: several
 *   times cheaper than `createHash(...).digest()` for a 32-byte secret).
 */
import { hash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { createAccessTokens } from '../../src/access-tokens/index.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import type { Row } from '../harness.js';

const TOKENS = 1000;
const SCRYPT = { N: 16_384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

function scryptAsync(secret: Buffer, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, 64, SCRYPT, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** The rows this file contributes. */
export async function patVerifyRows(): Promise<Row[]> {
  const pats = createAccessTokens({ store: createMemoryStore() });
  const tokens: string[] = [];
  for (let i = 0; i < TOKENS; i++) tokens.push((await pats.issue({ owner: `user-${i}` })).token);
  let i = 0;
  const subject = {
    name: 'Tessera verify() (SHA-256, memory store)',
    op: async () => {
      const r = await pats.verify(tokens[i++ % TOKENS]!);
      if (!r.valid) throw new Error(`verify failed: ${r.reason}`);
    },
  };

  // Bare ceiling: the least any PAT verify must do, synchronously.
  const secretOf = (token: string) => Buffer.from(token.slice(25, 68), 'base64url');
  const table = new Map<string, Buffer>();
  for (const t of tokens) table.set(t.slice(4, 25), hash('sha256', secretOf(t), 'buffer'));
  const digest = Buffer.alloc(32);
  let j = 0;
  const ceiling = () => {
    const t = tokens[j++ % TOKENS]!;
    digest.write(hash('sha256', secretOf(t), 'binary'), 0, 32, 'latin1');
    const stored = table.get(t.slice(4, 25));
    if (stored === undefined || !timingSafeEqual(stored, digest)) throw new Error('ceiling failed');
  };

  // @access-tokens/core: a record lookup and one scrypt per verify.
  const scryptTable = new Map<string, { salt: Buffer; hash: Buffer }>();
  for (const t of tokens.slice(0, 16)) {
    const salt = randomBytes(16);
    scryptTable.set(t.slice(4, 25), { salt, hash: await scryptAsync(secretOf(t), salt) });
  }
  let k = 0;
  const scryptVerify = async () => {
    const t = tokens[k++ % 16]!;
    const rec = scryptTable.get(t.slice(4, 25))!;
    const key = await scryptAsync(secretOf(t), rec.salt);
    if (!timingSafeEqual(key, rec.hash)) throw new Error('scrypt verify failed');
  };

  return [
    {
      id: 'pat-vs-scrypt',
      title: 'PAT verify vs @access-tokens/core scrypt',
      subject,
      baseline: { name: 'scrypt N=16384 r=8 p=1 + Map', op: scryptVerify },
      batch: { baseline: 1 },
      target: 10_000,
    },
    {
      id: 'pat-vs-ceiling',
      title: 'PAT verify vs SHA-256 + Map ceiling',
      subject,
      baseline: { name: 'SHA-256 + Map + compare', op: ceiling },
      target: 0.7,
    },
  ];
}
