/**
 * Verify throughput of personal access tokens on the memory store, against a
 * bare ceiling: SHA-256 of the secret, a Map lookup and a constant-time
 * compare, with no parsing checks, no store, no record checks and no async.
 *
 * Variants run interleaved for several rounds and the best round of each is
 * reported, so a noisy machine distorts the ratios less.
 *
 * Run: npx tsx bench/pat-verify.ts [verifies per round] [rounds]
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { type AccessTokensOptions, createAccessTokens } from '../src/access-tokens/index.js';
import { createKeyring, generateServerSecret } from '../src/core/keyring.js';
import { createMemoryStore } from '../src/stores/memory/index.js';

const ITERATIONS = Number(process.argv[2] ?? 100_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const TOKENS = 1000;

type Runner = () => Promise<number>;

async function timed(iterations: number, run: (i: number) => unknown): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < iterations; i++) await run(i);
  return iterations / ((performance.now() - start) / 1000);
}

/** The ceiling: what any PAT verify must do at least, synchronously. */
function ceiling(tokens: string[]): Runner {
  const table = new Map<string, Buffer>();
  const secretOf = (token: string) => Buffer.from(token.slice(25, 68), 'base64url');
  for (const token of tokens) {
    table.set(token.slice(4, 25), createHash('sha256').update(secretOf(token)).digest());
  }
  return async () => {
    let ok = 0;
    const start = performance.now();
    for (let i = 0; i < ITERATIONS; i++) {
      const token = tokens[i % tokens.length]!;
      const digest = createHash('sha256').update(secretOf(token)).digest();
      const stored = table.get(token.slice(4, 25));
      if (stored !== undefined && timingSafeEqual(stored, digest)) ok++;
    }
    if (ok !== ITERATIONS) throw new Error('ceiling verification failed');
    return ITERATIONS / ((performance.now() - start) / 1000);
  };
}

async function variant(
  options: Partial<AccessTokensOptions>,
): Promise<{ run: Runner; tokens: string[] }> {
  const pats = createAccessTokens({ store: createMemoryStore(), ...options });
  const tokens: string[] = [];
  for (let i = 0; i < TOKENS; i++) tokens.push((await pats.issue({ owner: `user-${i}` })).token);
  const once = async (i: number) => {
    const r = await pats.verify(tokens[i % TOKENS]!);
    if (!r.valid) throw new Error(`verify failed: ${r.reason}`);
  };
  await timed(TOKENS * 5, once); // warm-up; also writes each token's lastUsedAt once
  return { run: () => timed(ITERATIONS, once), tokens };
}

async function main(): Promise<void> {
  const keyring = createKeyring({ keys: [{ id: 'k1', secret: generateServerSecret() }] });
  const sha = await variant({});
  const rejecting = createAccessTokens({ store: createMemoryStore() });
  const junk = `pat_${'A'.repeat(70)}`;
  const runners: Array<[string, Runner]> = [
    ['ceiling: SHA-256 + Map + compare', ceiling(sha.tokens)],
    ['verify, SHA-256, no cache', sha.run],
    ['verify, SHA-256, cache', (await variant({ cache: { ttlMs: 60_000 } })).run],
    ['verify, HMAC-SHA-256, no cache', (await variant({ keyring })).run],
    ['verify, HMAC-SHA-256, cache', (await variant({ keyring, cache: { ttlMs: 60_000 } })).run],
    [
      'reject a bad checksum (no store read)',
      () => timed(ITERATIONS, () => rejecting.verify(junk)),
    ],
  ];
  const best = new Map<string, number>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of runners) best.set(name, Math.max(best.get(name) ?? 0, await run()));
  }
  const bare = best.get(runners[0]![0])!;
  console.log(
    `PAT verify on the memory store: ${TOKENS} tokens, best of ${ROUNDS} rounds of ${ITERATIONS} (Node ${process.version})\n`,
  );
  for (const [name] of runners) {
    const ops = best.get(name)!;
    const ratio = name.startsWith('ceiling') ? '' : `  ${(ops / bare).toFixed(2)}x ceiling`;
    console.log(
      `${name.padEnd(40)} ${Math.round(ops).toLocaleString('en-US').padStart(11)} ops/s${ratio}`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
