/**
 * kill -9 of `tessera serve` under load, then a restart on the same store:
 * every create the service acknowledged (201) is still there, and no token was
 * used more times than it had uses, counting uses acknowledged before and
 * after the crash. Afterwards the store's full dump, both instances' logs and
 * their data directories hold none of the token values issued, nor the admin
 * credential or server secret (plain, hex or base64).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordFigures, scale } from './support/figures.js';
import { filesUnder, scanAndRecord } from './support/leaks.js';
import {
  api,
  ensureBuilt,
  removeTempDirs,
  serve,
  serviceSecrets,
  tempDir,
} from './support/serve.js';
import { gateKind, postgresKind, sqliteKind } from './support/stores.js';

beforeAll(() => ensureBuilt(), 120_000);
afterAll(() => removeTempDirs());

const USES = 3;

for (const kind of [sqliteKind, postgresKind]) {
  if (!(await gateKind(kind, 'kill -9 of the service under load'))) continue;
  describe(`kill -9 of tessera serve on ${kind.name}`, () => {
    it('loses no acknowledged create and consumes nothing twice across the crash', async () => {
      const store = await kind.open();
      const secrets = serviceSecrets();
      const dataDir = tempDir();
      try {
        const first = await serve({ store: store.url, dataDir });
        const acked: string[] = [];
        const values = new Map<string, string>();
        const validUses = new Map<string, number>();
        let stop = false;
        let n = 0;
        const worker = async () => {
          while (!stop) {
            const owner = `k9-${n++}`;
            try {
              const r = await api(first.url, 'POST', '/v1/action-tokens', {
                owner,
                action: 'crash',
                remainingUses: USES,
              });
              if (r.status !== 201) continue;
              acked.push(owner);
              values.set(owner, r.body.value);
              secrets.addFrom(`action token ${owner}`, r.body);
              const u = await api(first.url, 'POST', '/v1/action-tokens/use', {
                owner,
                action: 'crash',
                value: r.body.value,
                drainWhenValid: false,
              });
              if (u.body?.valid === true) validUses.set(owner, (validUses.get(owner) ?? 0) + 1);
            } catch {
              // the connection died with the process
            }
          }
        };
        const workers = Array.from({ length: 16 }, worker);
        await new Promise((r) => setTimeout(r, scale(1500, 10_000)));
        await first.kill9();
        stop = true;
        await Promise.all(workers);
        expect(acked.length).toBeGreaterThan(10);

        const second = await serve({ store: store.url, dataDir });
        try {
          let lost = 0;
          let overUsed = 0;
          for (const owner of acked) {
            const peek = await api(second.url, 'POST', '/v1/action-tokens/peek', {
              owner,
              action: 'crash',
            });
            if (peek.status !== 200) {
              lost++;
              continue;
            }
            // Use it until refused: total valid uses must not exceed USES.
            let more = 0;
            for (let i = 0; i < USES + 1; i++) {
              const u = await api(second.url, 'POST', '/v1/action-tokens/use', {
                owner,
                action: 'crash',
                value: values.get(owner),
                drainWhenValid: false,
              });
              if (u.body?.valid === true) more++;
            }
            if ((validUses.get(owner) ?? 0) + more > USES) overUsed++;
          }
          recordFigures(`kill9-${kind.name}`, {
            backend: kind.name,
            acknowledgedCreates: acked.length,
            lost,
            overUsed,
            survived: lost === 0 && overUsed === 0,
          });
          expect(lost).toBe(0);
          expect(overUsed).toBe(0);
        } finally {
          await second.stop();
        }
        // No leaks: the store, both logs (the crashed one too) and the data directory.
        const dump = await store.dump();
        expect(dump.length).toBeGreaterThan(0);
        const leaks = scanAndRecord(
          `kill9-${kind.name}`,
          { file: 'kill9.test.ts', backend: kind.name },
          secrets,
          [
            { where: `${kind.name} store dump`, text: dump },
            { where: 'crashed instance log', text: first.output() },
            { where: 'restarted instance log', text: second.output() },
            ...filesUnder(dataDir, 'data dir'),
          ],
        );
        expect(leaks.hitDetails).toEqual([]);
      } finally {
        await store.cleanup();
      }
    }, 90_000);
  });
}
