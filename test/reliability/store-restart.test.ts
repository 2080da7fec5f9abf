/**
 * The store stopped and restarted under a running `tessera serve` under load:
 * a private Redis with AOF (`appendfsync always`), killed with SIGKILL, and a
 * private PostgreSQL, crashed (immediate stop). Every answer is judged by the
 * phase it fell in: before the outage and once recovered every create is 201
 * and every use valid; while the store is down every answer is 503 with a
 * typed store error code (never another status, never a success it did not
 * store); across a change, one or the other. The service recovers without a
 * restart; afterwards every acknowledged create is there with exactly the uses
 * its acknowledged (and possibly applied) uses leave, so no write is lost and
 * nothing is consumed twice. Afterwards the store's full dump (Redis keys and values
 * plus its AOF files and log; PostgreSQL schema tables), the service log and
 * its data directory hold none of the token values issued, nor the admin
 * credential or server secret (plain, hex or base64).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateBackend, redisBinariesAvailable } from '../support/backends.js';
import { createTempPostgres, postgresBinariesAvailable } from '../support/postgres.js';
import { startRedisServer } from '../support/redis-cluster.js';
import { recordFigures, scale } from './support/figures.js';
import { filesUnder, type LeakPlace, scanAndRecord } from './support/leaks.js';
import {
  type Answer,
  api,
  ensureBuilt,
  removeTempDirs,
  serve,
  serviceSecrets,
  tempDir,
} from './support/serve.js';
import { dumpPostgres, dumpRedis } from './support/stores.js';

beforeAll(() => ensureBuilt(), 120_000);
afterAll(() => removeTempDirs());

/** Uses per token: the workers use each token once, so an acknowledged one is never used up. */
const USES = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PrivateStore {
  url: string;
  down(): Promise<void>;
  up(): Promise<void>;
  /** Everything the store holds, as places for the leak scan. */
  dump(): Promise<LeakPlace[]>;
  destroy(): Promise<void>;
}

const kinds: Array<{
  name: string;
  available: () => Promise<boolean>;
  open: () => Promise<PrivateStore>;
}> = [
  {
    name: 'redis (AOF, appendfsync always)',
    available: () => redisBinariesAvailable(),
    async open() {
      const server = await startRedisServer({
        args: ['--appendonly', 'yes', '--appendfsync', 'always', '--appendfilename', 'rel.aof'],
      });
      return {
        url: `${server.url}?prefix=rel-restart`,
        down: () => server.kill(),
        up: () => server.restart(),
        async dump() {
          const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
          client.on('error', () => {});
          try {
            return [
              { where: 'redis keys and values', text: await dumpRedis(client, 'rel-restart') },
              // The AOF files (every write ever made, deleted keys too) and the server log.
              ...filesUnder(server.dir, 'redis dir'),
            ];
          } finally {
            await client.quit().catch(() => {});
          }
        },
        destroy: () => server.stop(),
      };
    },
  },
  {
    name: 'postgres (private server)',
    available: async () => postgresBinariesAvailable(),
    async open() {
      const server = await createTempPostgres();
      await server.start();
      return {
        url: `${server.url}?schema=rel_restart`,
        down: () => server.stop('immediate'),
        up: () => server.start(),
        async dump() {
          return [
            {
              where: 'postgres schema tables',
              text: await dumpPostgres(server.url, 'rel_restart'),
            },
          ];
        },
        destroy: () => server.destroy(),
      };
    },
  },
];

for (const kind of kinds) {
  if (!gateBackend(kind.name, await kind.available(), [`store restart under load: ${kind.name}`]))
    continue;
  describe(`${kind.name} stopped and restarted under a running service`, () => {
    it('answers typed 503s while down, recovers without a service restart, loses nothing, spends nothing twice', async () => {
      const store = await kind.open();
      const secrets = serviceSecrets();
      const dataDir = tempDir();
      const svc = await serve({ store: store.url, dataDir });
      try {
        // Phases, in order: `up`, `stopping` (the kill is under way), `down` (the store is
        // gone), `starting` (its restart is under way), `back` (it runs again), `recovered`
        // (the service answered a create again). A request is judged by the phases it began
        // and ended in: wholly in `up` or `recovered` it must succeed; wholly in `down` it
        // must be a typed 503; across a change it may be either. Anything else is a failure.
        type Phase = 'up' | 'stopping' | 'down' | 'starting' | 'back' | 'recovered';
        let phase: Phase = 'up';
        const acked: string[] = [];
        const values = new Map<string, string>();
        const validUses = new Map<string, number>();
        /** Uses whose outcome is unknown (a 503 or a dropped connection): applied or not. */
        const uncertainUses = new Map<string, number>();
        const downAnswers: Record<string, number> = {};
        const answers: Record<string, number> = {};
        const bad: string[] = [];
        let n = 0;
        let stop = false;
        const typed503 = (r: Answer) =>
          r.status === 503 && /^ERR_TESSERA_STORE/.test(String(r.body?.error?.code));
        /** Judge one answer; returns whether it was the expected success. */
        const judge = (
          what: string,
          r: Answer | null,
          began: Phase,
          ok: (r: Answer) => boolean,
        ): boolean => {
          const ended = phase;
          const span = began === ended ? began : `${began}->${ended}`;
          const label = r === null ? 'no answer' : `${r.status} ${r.body?.error?.code ?? ''}`;
          answers[`${what} ${span}: ${label}`.trim()] =
            (answers[`${what} ${span}: ${label}`.trim()] ?? 0) + 1;
          if (span === 'down' && r !== null)
            downAnswers[label.trim()] = (downAnswers[label.trim()] ?? 0) + 1;
          const success = r !== null && ok(r);
          const mustSucceed = span === 'up' || span === 'recovered';
          const mustFail = span === 'down';
          const fine =
            (success && !mustFail) || (!mustSucceed && r !== null && typed503(r) && !success);
          if (!fine)
            bad.push(`${what} in ${span}: ${r === null ? 'no answer' : r.text.slice(0, 200)}`);
          return success;
        };
        const worker = async () => {
          while (!stop) {
            const owner = `rs-${n++}`;
            let began = phase;
            const r = await api(svc.url, 'POST', '/v1/action-tokens', {
              owner,
              action: 'restart',
              remainingUses: USES,
            }).catch(() => null);
            if (!judge('create', r, began, (x) => x.status === 201) || r === null) {
              await sleep(20);
              continue;
            }
            acked.push(owner);
            values.set(owner, r.body.value);
            secrets.addFrom(`action token ${owner}`, r.body);
            // One use per token: it keeps at least USES - 1 uses whatever happened to it.
            began = phase;
            const u = await api(svc.url, 'POST', '/v1/action-tokens/use', {
              owner,
              action: 'restart',
              value: r.body.value,
              drainWhenValid: false,
            }).catch(() => null);
            if (judge('use', u, began, (x) => x.status === 200 && x.body?.valid === true))
              validUses.set(owner, (validUses.get(owner) ?? 0) + 1);
            else uncertainUses.set(owner, (uncertainUses.get(owner) ?? 0) + 1);
          }
        };
        const workers = Array.from({ length: 8 }, worker);
        await sleep(scale(1000, 5000));
        const beforeDown = acked.length;
        phase = 'stopping';
        await store.down();
        phase = 'down';
        await sleep(scale(2000, 8000));
        phase = 'starting';
        await store.up();
        phase = 'back';
        // Recovery without restarting the service: a create succeeds within 30 s.
        const deadline = Date.now() + 30_000;
        let recoveredMs = -1;
        const t0 = Date.now();
        while (Date.now() < deadline) {
          const r = await api(svc.url, 'POST', '/v1/action-tokens', {
            owner: `probe-${n++}`,
            action: 'restart',
          });
          if (r.status === 201) {
            secrets.addFrom('probe token', r.body);
            recoveredMs = Date.now() - t0;
            phase = 'recovered';
            break;
          }
          if (!typed503(r)) bad.push(`recovery probe: ${r.text.slice(0, 200)}`);
          await sleep(100);
        }
        await sleep(scale(1000, 5000));
        stop = true;
        await Promise.all(workers);
        expect(svc.alive()).toBe(true);
        expect(recoveredMs).toBeGreaterThanOrEqual(0);

        // Every acknowledged create is there with the uses it should have: USES less the
        // acknowledged uses, less at most the uses whose answer was lost. A 404 is a lost
        // write (the token cannot be used up: it was used once at most); fewer uses left
        // than that is a use applied twice.
        let lost = 0;
        let overUsed = 0;
        for (const owner of acked) {
          const peek = await api(svc.url, 'POST', '/v1/action-tokens/peek', {
            owner,
            action: 'restart',
          });
          const used = validUses.get(owner) ?? 0;
          const maybe = uncertainUses.get(owner) ?? 0;
          if (peek.status === 404 && used + maybe < USES) {
            lost++;
            continue;
          }
          if (peek.status !== 200) {
            bad.push(`peek of acknowledged ${owner}: ${peek.status} ${peek.text.slice(0, 200)}`);
            continue;
          }
          const left = peek.body.token.remainingUses as number;
          if (left > USES - used) lost++; // an acknowledged use was lost
          if (left < USES - used - maybe) overUsed++;
          let more = 0;
          for (let i = 0; i < USES + 1; i++) {
            const u = await api(svc.url, 'POST', '/v1/action-tokens/use', {
              owner,
              action: 'restart',
              value: values.get(owner),
              drainWhenValid: false,
            });
            if (u.status !== 200) bad.push(`use after recovery: ${u.text.slice(0, 200)}`);
            if (u.body?.valid === true) more++;
          }
          if (more !== left || used + more > USES) overUsed++;
        }
        const downTotal = Object.values(downAnswers).reduce((a, b) => a + b, 0);
        recordFigures(`store-restart-${kind.name.split(' ')[0]}`, {
          backend: kind.name,
          acknowledgedCreates: acked.length,
          createdBeforeOutage: beforeDown,
          answersWhileDown: downAnswers,
          answersByPhase: answers,
          recoveredAfterMs: recoveredMs,
          lost,
          overUsed,
          unexpectedAnswers: bad.length,
          unexpectedSamples: bad.slice(0, 20),
          survived: lost === 0 && overUsed === 0 && bad.length === 0 && recoveredMs >= 0,
        });
        expect({ unexpected: bad.length, samples: bad.slice(0, 20) }).toEqual({
          unexpected: 0,
          samples: [],
        });
        expect(downTotal).toBeGreaterThan(0);
        expect(lost).toBe(0);
        expect(overUsed).toBe(0);

        // No leaks: the store (dumped while it runs), the service log, its data directory.
        const storePlaces = await store.dump();
        expect(storePlaces[0]?.text.length).toBeGreaterThan(0);
        const leaks = scanAndRecord(
          `store-restart-${kind.name.split(' ')[0]}`,
          { file: 'store-restart.test.ts', backend: kind.name },
          secrets,
          [
            ...storePlaces,
            { where: 'service log', text: svc.output() },
            ...filesUnder(dataDir, 'data dir'),
          ],
        );
        expect(leaks.hitDetails).toEqual([]);
      } finally {
        await svc.stop();
        await store.destroy();
      }
    }, 120_000);
  });
}
