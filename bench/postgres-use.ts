/**
 * Benchmark: action-token `use()` and PAT `verify()` on the PostgreSQL store,
 * against raw `UPDATE ... RETURNING` ceilings measured in the same run, on the
 * same pool and with the same concurrency.
 *
 * Ceilings:
 * - `raw UPDATE int`: `UPDATE t SET n = n - 1 WHERE id = $1 AND n > 0 RETURNING n`
 *   on a plain integer column (the least work a conditional decrement can be);
 * - `raw UPDATE jsonb`: the same decrement written by hand over a jsonb column
 *   of the store's own table (what a hand-written `use()` statement would cost).
 *
 * Each round measures every case for `seconds`, one after the other; the
 * report gives each case's median ops/s and the median over rounds of its
 * ratio to the ceiling measured in the same round (robust to a machine whose
 * load changes during the run).
 *
 * Usage: `npx tsx bench/postgres-use.ts [url] [--seconds 1.5] [--concurrency 16] [--rounds 8] [--pool 8]`
 * (default url `postgres://postgres@127.0.0.1:5432/test`). It creates and drops
 * its own schema.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createAccessTokens } from '../src/access-tokens/index.js';
import { createActionTokens } from '../src/action-tokens/index.js';
import { createFakeClock } from '../src/core/clock.js';
import { createPostgresStore } from '../src/stores/postgres/index.js';
import { testKeyring } from '../src/testing/index.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const url =
  process.argv.slice(2).find((a) => a.startsWith('postgres')) ??
  'postgres://postgres@127.0.0.1:5432/test';
const seconds = arg('seconds', 1.5);
const concurrency = arg('concurrency', 16);
const rounds = arg('rounds', 8);
const poolSize = arg('pool', 8);

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
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const schema = `tessera_bench_${randomBytes(3).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  pool.on('error', () => {});
  const store = createPostgresStore({ pool }, { schema });
  try {
    await store.migrate();
    const clock = createFakeClock();
    const keyring = testKeyring();

    // Ceiling 1: a plain integer column.
    await pool.query(
      `CREATE TABLE "${schema}".ceiling (id integer PRIMARY KEY, n bigint NOT NULL)`,
    );
    await pool.query(
      `INSERT INTO "${schema}".ceiling SELECT i, 1000000000 FROM generate_series(0, $1::int - 1) i`,
      [concurrency],
    );
    const rawInt = {
      name: 'bench_raw_int',
      text: `UPDATE "${schema}".ceiling SET n = n - 1 WHERE id = $1 AND n > 0 RETURNING n`,
    };

    // Action tokens: one per worker (no hot-row contention, like the ceilings).
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

    // Ceiling 2: the same decrement by hand, over jsonb in the store's own table.
    await pool.query(
      `INSERT INTO "${schema}".tessera_records (collection, key, partition, data, version)
       SELECT 'raw', 'k' || i, 'k' || i, '{"remainingUses": 1000000000, "failures": 0}', 1
       FROM generate_series(0, $1::int - 1) i`,
      [concurrency],
    );
    const rawJsonb = {
      name: 'bench_raw_jsonb',
      text: `UPDATE "${schema}".tessera_records
        SET data = jsonb_set(data, '{remainingUses}', to_jsonb((data->>'remainingUses')::float8 - 1)),
            version = version + 1
        WHERE collection = 'raw' AND key = $1 AND (data->>'remainingUses')::float8 > 0
        RETURNING data, version`,
    };

    // PATs: one per worker; a fixed clock, so lastUsedAt is written once a minute at most.
    const pats = createAccessTokens({ store, keyring, clock });
    const patTokens: string[] = [];
    for (let w = 0; w < concurrency; w++) {
      const { token } = await pats.issue({ owner: `bench-${w}@example.com` });
      patTokens.push(token);
    }

    const cases: Record<string, (w: number, i: number) => Promise<unknown>> = {
      'raw UPDATE int (ceiling)': (w) => pool.query({ ...rawInt, values: [w] }),
      'raw UPDATE jsonb': (w) => pool.query({ ...rawJsonb, values: [`k${w}`] }),
      'action-token use()': async (w) => {
        const r = await tokens.tryUse({
          owner: `bench-${w}@example.com`,
          action: 'bench',
          value: values[w]!,
          drainWhenValid: false,
        });
        if (!r.valid) throw new Error(`use failed: ${r.reason}`);
      },
      'PAT verify()': async (w) => {
        const r = await pats.verify(patTokens[w]!);
        if (!r.valid) throw new Error('verify failed');
      },
    };

    // Warm up (prepared statements, caches), then alternate cases round by round.
    for (const fn of Object.values(cases)) await measure(fn);
    const results: Record<string, number[]> = Object.fromEntries(
      Object.keys(cases).map((k) => [k, []]),
    );
    for (let r = 0; r < rounds; r++) {
      for (const [name, fn] of Object.entries(cases)) results[name]!.push(await measure(fn));
    }
    const ceiling = results['raw UPDATE int (ceiling)']!;
    const { rows } = await pool.query('SELECT version() AS v');
    console.log(
      `PostgreSQL store benchmark: ${rows[0].v.split(',')[0]}, Node ${process.version}, pool ${poolSize}, concurrency ${concurrency}, ${rounds} rounds x ${seconds} s per case`,
    );
    console.log(`${'case'.padEnd(26)} median ops/s   median ratio to ceiling (same round)`);
    for (const [name, xs] of Object.entries(results)) {
      const ratio = median(xs.map((x, i) => x / ceiling[i]!));
      console.log(
        `${name.padEnd(26)} ${median(xs).toFixed(0).padStart(12)}   ${ratio.toFixed(2)}x   (rounds: ${xs.map((x) => x.toFixed(0)).join(', ')})`,
      );
    }
  } finally {
    await store.close();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
