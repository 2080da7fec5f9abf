/**
 * The store stopped and restarted under a running `tessera serve` under load:
 * a private Redis with AOF (`appendfsync always`), killed with SIGKILL, and a
 * private PostgreSQL, crashed (immediate stop). While the store is down the
 * service answers 503 with a typed store error code (never another 5xx, never
 * a success it did not store); once the store is back it recovers without a
 * restart; no acknowledged create is lost and no token is used more often
 * than its uses allow. Afterwards the store's full dump (Redis keys and values
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

const USES = 2;
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
        let phase: 'up' | 'down' | 'back' = 'up';
        const acked: string[] = [];
        const values = new Map<string, string>();
        const validUses = new Map<string, number>();
        const downAnswers: Record<string, number> = {};
        const bad: string[] = [];
        let n = 0;
        let stop = false;
        const note = (r: Answer, during: typeof phase) => {
          if (r.status >= 500) {
            const code = r.body?.error?.code ?? r.body?.code ?? 'none';
            if (during === 'down')
              downAnswers[`${r.status} ${code}`] = (downAnswers[`${r.status} ${code}`] ?? 0) + 1;
            if (r.status !== 503 || !/^ERR_TESSERA_STORE/.test(String(code)))
              bad.push(`${r.status} ${r.text.slice(0, 200)}`);
          }
        };
        const worker = async () => {
          while (!stop) {
            const owner = `rs-${n++}`;
            const during = phase;
            const r = await api(svc.url, 'POST', '/v1/action-tokens', {
              owner,
              action: 'restart',
              remainingUses: USES,
            }).catch(() => null);
            if (r === null) continue;
            note(r, during);
            if (r.status !== 201) {
              await sleep(20);
              continue;
            }
            acked.push(owner);
            values.set(owner, r.body.value);
            secrets.addFrom(`action token ${owner}`, r.body);
            const u = await api(svc.url, 'POST', '/v1/action-tokens/use', {
              owner,
              action: 'restart',
              value: r.body.value,
              drainWhenValid: false,
            }).catch(() => null);
            if (u === null) continue;
            note(u, phase);
            if (u.body?.valid === true) validUses.set(owner, (validUses.get(owner) ?? 0) + 1);
          }
        };
        const workers = Array.from({ length: 8 }, worker);
        await sleep(scale(1000, 5000));
        const beforeDown = acked.length;
        await store.down();
        phase = 'down';
        await sleep(scale(2000, 8000));
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
            break;
          }
          await sleep(100);
        }
        await sleep(scale(1000, 5000));
        stop = true;
        await Promise.all(workers);
        expect(svc.alive()).toBe(true);
        expect(recoveredMs).toBeGreaterThanOrEqual(0);

        let lost = 0;
        let overUsed = 0;
        for (const owner of acked) {
          const peek = await api(svc.url, 'POST', '/v1/action-tokens/peek', {
            owner,
            action: 'restart',
          });
          if (peek.status !== 200 && peek.body?.error?.code !== 'ERR_TESSERA_USED_UP') {
            // 404 for an acknowledged create is a lost write (used-up tokens still exist).
            if (peek.status === 404 && (validUses.get(owner) ?? 0) < USES) lost++;
            continue;
          }
          let more = 0;
          for (let i = 0; i < USES + 1; i++) {
            const u = await api(svc.url, 'POST', '/v1/action-tokens/use', {
              owner,
              action: 'restart',
              value: values.get(owner),
              drainWhenValid: false,
            });
            if (u.body?.valid === true) more++;
          }
          if ((validUses.get(owner) ?? 0) + more > USES) overUsed++;
        }
        const downTotal = Object.values(downAnswers).reduce((a, b) => a + b, 0);
        recordFigures(`store-restart-${kind.name.split(' ')[0]}`, {
          backend: kind.name,
          acknowledgedCreates: acked.length,
          createdBeforeOutage: beforeDown,
          answersWhileDown: downAnswers,
          recoveredAfterMs: recoveredMs,
          lost,
          overUsed,
          untypedOrOther5xx: bad.length,
          survived: lost === 0 && overUsed === 0 && bad.length === 0 && recoveredMs >= 0,
        });
        expect(bad).toEqual([]);
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
