/**
 * Persistence under a crash: a private Redis with AOF and `appendfsync always`
 * is killed with SIGKILL in the middle of a load of decrements and action-token
 * uses, then restarted on the same port and directory. The store's own
 * connection (opened from a URL) must report the outage as
 * StoreUnavailableError, recover by itself, lose no acknowledged write and
 * never let a token be used twice.
 */
import { describe, expect, it } from 'vitest';
import { createActionTokens } from '../../../src/action-tokens/index.js';
import { isTesseraError, StoreUnavailableError } from '../../../src/core/errors.js';
import { createRedisStore, type RedisStore } from '../../../src/stores/redis/index.js';
import { testKeyring } from '../../../src/testing/index.js';
import { gateBackend, redisBinariesAvailable } from '../../support/backends.js';
import { type RedisServer, startRedisServer } from '../../support/redis-cluster.js';

const ok = gateBackend(
  'redis-server (to start a private AOF instance)',
  await redisBinariesAvailable(),
  ['redis store: AOF kill and restart under load'],
);

const COUNTERS = 10;
const USES_PER_COUNTER = 40;
const DECREMENTS = 320;
const TOKENS = 60;
const WITNESSES = 20;
const WORKERS = 10;
const KILL_AFTER_OPS = 150;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Outcome = 'ok' | 'refused' | 'unavailable';

if (ok) {
  describe('redis store: AOF kill and restart under load', () => {
    it('loses no acknowledged write, never consumes a token twice, fails typed while down and recovers', async () => {
      const server: RedisServer = await startRedisServer({
        args: ['--appendonly', 'yes', '--appendfsync', 'always', '--appendfilename', 'tessera.aof'],
      });
      let store: RedisStore | undefined;
      try {
        store = createRedisStore({
          url: server.url,
          prefix: 'fault',
          connectTimeoutMs: 2000,
          commandTimeoutMs: 2000,
        });
        await store.migrate();
        const s = store;
        const tokens = createActionTokens({
          store: s,
          keyring: testKeyring(),
          failureBudget: false,
        });
        const now = Date.now();

        // Seed: counters, single-use tokens, and witnesses nobody touches again.
        for (let i = 0; i < COUNTERS; i++) {
          const r = await s.put(
            {
              collection: 'counters',
              key: `c${i}`,
              data: { uses: USES_PER_COUNTER },
              expiresAt: null,
            },
            { mode: 'insert', now },
          );
          expect(r.ok).toBe(true);
        }
        const values: string[] = [];
        for (let i = 0; i < TOKENS; i++) {
          values.push(
            (await tokens.create({ owner: `u${i}`, action: 'login', ttlSeconds: 3600 })).value,
          );
        }

        // The load: a shared queue of decrements and two use() attempts per token.
        type Job = { kind: 'dec'; counter: number } | { kind: 'use'; token: number };
        const jobs: Job[] = [];
        for (let i = 0; i < DECREMENTS; i++) jobs.push({ kind: 'dec', counter: i % COUNTERS });
        for (let t = 0; t < TOKENS; t++)
          jobs.push({ kind: 'use', token: t }, { kind: 'use', token: t });
        for (let i = jobs.length - 1; i > 0; i--) {
          const j = Math.floor(Math.random() * (i + 1));
          [jobs[i], jobs[j]] = [jobs[j] as Job, jobs[i] as Job];
        }
        const decs = Array.from({ length: COUNTERS }, () => ({ ok: 0, refused: 0, unknown: 0 }));
        const uses = Array.from({ length: TOKENS }, () => ({ valid: 0, invalid: 0, unknown: 0 }));
        const errors: unknown[] = [];
        let done = 0;
        let up: Promise<void> = Promise.resolve();
        let release: () => void = () => {};

        const runJob = async (job: Job): Promise<Outcome> => {
          try {
            if (job.kind === 'dec') {
              const r = await s.update(
                { collection: 'counters', key: `c${job.counter}` },
                { inc: { uses: -1 } },
                { where: { fields: [{ field: 'uses', op: 'gt', value: 0 }] } },
              );
              const d = decs[job.counter] as (typeof decs)[number];
              if (r.ok) d.ok++;
              else d.refused++;
              return r.ok ? 'ok' : 'refused';
            }
            const r = await tokens.tryUse({
              owner: `u${job.token}`,
              action: 'login',
              value: values[job.token] as string,
            });
            const u = uses[job.token] as (typeof uses)[number];
            if (r.valid) u.valid++;
            else u.invalid++;
            return r.valid ? 'ok' : 'refused';
          } catch (err) {
            errors.push(err);
            if (job.kind === 'dec') (decs[job.counter] as (typeof decs)[number]).unknown++;
            else (uses[job.token] as (typeof uses)[number]).unknown++;
            return 'unavailable';
          }
        };
        const worker = async () => {
          for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) {
            const outcome = await runJob(job);
            done++;
            if (outcome === 'unavailable') await up;
          }
        };

        const load = Promise.all(Array.from({ length: WORKERS }, worker));

        // The crash, in the middle of the load.
        while (done < KILL_AFTER_OPS) await sleep(1);
        up = new Promise<void>((r) => {
          release = r;
        });
        await server.kill();

        // While it is down: every call fails fast with the typed error.
        const probes: number[] = [];
        for (let i = 0; i < 5; i++) {
          const t0 = performance.now();
          const err = await s.get({ collection: 'counters', key: 'c0' }).catch((e: unknown) => e);
          probes.push(performance.now() - t0);
          expect(err).toBeInstanceOf(StoreUnavailableError);
          await sleep(100);
        }
        await expect(
          s.update({ collection: 'counters', key: 'c0' }, { inc: { uses: -1 } }),
        ).rejects.toBeInstanceOf(StoreUnavailableError);
        expect(Math.max(...probes)).toBeLessThan(500);

        // Restart on the same port and directory; the same store recovers by itself.
        await server.restart();
        const t0 = Date.now();
        for (;;) {
          try {
            await s.get({ collection: 'counters', key: 'c0' });
            break;
          } catch (err) {
            expect(err).toBeInstanceOf(StoreUnavailableError);
            if (Date.now() - t0 > 10_000) throw new Error('the store did not recover within 10 s');
            await sleep(50);
          }
        }
        const recoveredMs = Date.now() - t0;
        release();
        await load;

        // Every error was the typed "unavailable" one.
        for (const e of errors) {
          expect(isTesseraError(e, 'ERR_TESSERA_STORE_UNAVAILABLE'), String(e)).toBe(true);
        }
        expect(errors.length).toBeGreaterThan(0);

        // No acknowledged decrement lost, none invented.
        for (let i = 0; i < COUNTERS; i++) {
          const r = await s.get({ collection: 'counters', key: `c${i}` });
          const consumed = USES_PER_COUNTER - (r?.data.uses as number);
          const d = decs[i] as (typeof decs)[number];
          expect(consumed, `counter c${i}`).toBeGreaterThanOrEqual(d.ok);
          expect(consumed, `counter c${i}`).toBeLessThanOrEqual(d.ok + d.unknown);
          expect(r?.data.uses as number).toBeGreaterThanOrEqual(0);
        }

        // Each token has one use. It is consumed exactly once when any attempt took
        // effect: an acknowledged success, or an attempt whose answer was lost to the
        // crash. A token still usable after the run was never consumed, so every one
        // of its attempts must have failed unacknowledged (a refusal would mean a use
        // was lost); a token no longer usable was consumed by an acknowledged success
        // or by an attempt whose answer was lost.
        let unconsumed = 0;
        for (let t = 0; t < TOKENS; t++) {
          const u = uses[t] as (typeof uses)[number];
          expect(u.valid, `token ${t}`).toBeLessThanOrEqual(1);
          const again = await tokens.tryUse({
            owner: `u${t}`,
            action: 'login',
            value: values[t] as string,
          });
          if (again.valid) {
            unconsumed++;
            expect(u, `token ${t} was still usable after the run`).toEqual({
              valid: 0,
              invalid: 0,
              unknown: 2,
            });
          } else {
            expect(u.valid + u.unknown, `token ${t} consumed by no attempt`).toBeGreaterThanOrEqual(
              1,
            );
          }
        }
        expect(unconsumed).toBeLessThanOrEqual(errors.length / 2);

        // Writes acknowledged after the restart are durable too: create witnesses, crash again.
        const witnesses: string[] = [];
        for (let i = 0; i < WITNESSES; i++) {
          witnesses.push(
            (await tokens.create({ owner: `w${i}`, action: 'login', ttlSeconds: 3600 })).value,
          );
        }
        await server.kill();
        await server.restart();
        for (let t = Date.now(); ; ) {
          try {
            await s.get({ collection: 'counters', key: 'c0' });
            break;
          } catch {
            if (Date.now() - t > 10_000) throw new Error('no recovery after the second restart');
            await sleep(50);
          }
        }
        for (let i = 0; i < WITNESSES; i++) {
          const r = await tokens.tryUse({
            owner: `w${i}`,
            action: 'login',
            value: witnesses[i] as string,
          });
          expect(r.valid, `witness ${i}`).toBe(true);
        }
        console.log(
          `AOF fault: ${errors.length} calls failed with StoreUnavailableError during the outage, ` +
            `probes answered in <= ${Math.max(...probes).toFixed(1)} ms, recovered ${recoveredMs} ms after restart`,
        );
      } finally {
        await store?.close();
        await server.stop();
      }
    }, 60_000);
  });
}
