/**
 * Benchmark: action-token `use()` and PAT `verify()` on the Redis store,
 * against a raw EVALSHA ceiling measured in the same run, on the same
 * connection and with the same concurrency.
 *
 * Cases:
 * - `raw EVALSHA decrement (ceiling)`: a minimal Lua conditional decrement of
 *   one hash field (HGET, compare, HINCRBY): the least a `use()` can cost;
 * - `raw HGETALL (read ceiling)`: one hash read, the least a PAT verify can cost;
 * - `store.update decrement`: the store's write script with a `where`, as `use()` calls it;
 * - `action-token use()`: `tryUse` with a right value (`drainWhenValid: false`);
 * - `PAT verify()`: `verify` without a cache (a store read per call), and with
 *   the in-process cache.
 * Each worker has its own token (no hot-key contention, like the ceilings).
 *
 * Usage: `npx tsx bench/redis-use.ts [url] [--seconds 3] [--concurrency 16] [--rounds 3]`
 * (default url `redis://127.0.0.1:6379`). It writes under a fresh prefix and
 * deletes it afterwards.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createAccessTokens } from '../src/access-tokens/index.js';
import { createActionTokens } from '../src/action-tokens/index.js';
import { createFakeClock } from '../src/core/clock.js';
import { createRedisStore } from '../src/stores/redis/index.js';
import { testKeyring } from '../src/testing/index.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const url = process.argv.slice(2).find((a) => a.startsWith('redis')) ?? 'redis://127.0.0.1:6379';
const seconds = arg('seconds', 3);
const concurrency = arg('concurrency', 16);
const rounds = arg('rounds', 3);

const CEILING_LUA = `
local n = tonumber(redis.call('HGET', KEYS[1], 'n'))
if n ~= nil and n > 0 then return redis.call('HINCRBY', KEYS[1], 'n', -1) end
return -1
`;

/** Run `op(worker, i)` from `concurrency` loops for `seconds`; return ops/s. */
async function measure(op: (worker: number, i: number) => Promise<unknown>): Promise<number> {
  const end = Date.now() + seconds * 1000;
  let count = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (let i = 0; Date.now() < end; i++) {
        await op(w, i);
        count++;
      }
    }),
  );
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  return count / elapsed;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function main(): Promise<void> {
  const prefix = `tessera-bench-${randomBytes(3).toString('hex')}`;
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
  });
  await new Promise((resolve) => client.once('ready', resolve));
  const store = createRedisStore({ client, prefix });
  try {
    await store.migrate();
    const clock = createFakeClock(Date.now());
    const keyring = testKeyring();

    // Ceiling: one hash per worker, a conditional decrement in Lua.
    const ceilingSha = (await client.script('LOAD', CEILING_LUA)) as string;
    const ceilingKeys = Array.from({ length: concurrency }, (_, w) => `{${prefix}:raw}:${w}`);
    for (const k of ceilingKeys) await client.hset(k, 'n', 1_000_000_000);

    const tokens = createActionTokens({ store, keyring, clock });
    const values: string[] = [];
    for (let w = 0; w < concurrency; w++) {
      const { value } = await tokens.create({
        owner: `bench-${w}@example.com`,
        action: 'bench',
        remainingUses: 1_000_000,
        ttlSeconds: 86_400,
      });
      values.push(value);
    }
    for (let w = 0; w < concurrency; w++) {
      await store.put(
        { collection: 'counters', key: `c${w}`, data: { uses: 1_000_000_000 }, expiresAt: null },
        { mode: 'insert', now: clock.now() },
      );
    }

    // PATs: a fixed clock, so lastUsedAt is written at most once per token.
    const pats = createAccessTokens({ store, keyring, clock });
    const cachedPats = createAccessTokens({ store, keyring, clock, cache: { ttlMs: 60_000 } });
    const patTokens: string[] = [];
    for (let w = 0; w < concurrency; w++) {
      patTokens.push((await pats.issue({ owner: `bench-${w}@example.com` })).token);
    }
    const patKeys = (await store.list('pat', { limit: 1000 })).records.map((r) =>
      store.keys.record(r.collection, r.partition, r.key),
    );

    const cases: Record<string, (w: number, i: number) => Promise<unknown>> = {
      'raw EVALSHA decrement (ceiling)': async (w) => {
        const n = await client.evalsha(ceilingSha, 1, ceilingKeys[w] as string);
        if (Number(n) < 0) throw new Error('ceiling ran out');
      },
      'raw HGETALL (read ceiling)': (w) => client.hgetall(patKeys[w % patKeys.length] as string),
      'store.update decrement': async (w) => {
        const r = await store.update(
          { collection: 'counters', key: `c${w}` },
          { inc: { uses: -1 } },
          { where: { liveAt: clock.now(), fields: [{ field: 'uses', op: 'gt', value: 0 }] } },
        );
        if (!r.ok) throw new Error('decrement failed');
      },
      'action-token use()': async (w) => {
        const r = await tokens.tryUse({
          owner: `bench-${w}@example.com`,
          action: 'bench',
          value: values[w] as string,
          drainWhenValid: false,
        });
        if (!r.valid) throw new Error(`use failed: ${r.reason}`);
      },
      'PAT verify(), no cache': async (w) => {
        const r = await pats.verify(patTokens[w] as string);
        if (!r.valid) throw new Error('verify failed');
      },
      'PAT verify(), cache': async (w) => {
        const r = await cachedPats.verify(patTokens[w] as string);
        if (!r.valid) throw new Error('verify failed');
      },
    };

    // Warm up (script caches, JIT), then alternate cases round by round.
    for (const fn of Object.values(cases)) await measure(fn);
    const results: Record<string, number[]> = Object.fromEntries(
      Object.keys(cases).map((k) => [k, []]),
    );
    for (let r = 0; r < rounds; r++) {
      for (const [name, fn] of Object.entries(cases)) results[name]?.push(await measure(fn));
    }
    const ceiling = median(results['raw EVALSHA decrement (ceiling)'] as number[]);
    const readCeiling = median(results['raw HGETALL (read ceiling)'] as number[]);
    const info = await client.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
    console.log(
      `Redis store benchmark: Redis ${version} at ${url}, Node ${process.version}, one connection, ` +
        `concurrency ${concurrency}, ${rounds} x ${seconds} s per case (median)`,
    );
    for (const [name, xs] of Object.entries(results)) {
      const m = median(xs);
      console.log(
        `${name.padEnd(34)} ${m.toFixed(0).padStart(7)} ops/s   ${(m / ceiling).toFixed(2)}x EVALSHA ceiling   ` +
          `${(m / readCeiling).toFixed(2)}x read ceiling   (rounds: ${xs.map((x) => x.toFixed(0)).join(', ')})`,
      );
    }
  } finally {
    await store.close();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `{${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== '0');
    await client.quit();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
