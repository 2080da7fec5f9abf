/**
 * kill -9 of `tessera serve` under load, then a restart on the same store:
 * every create the service acknowledged (201) is still there, and no token was
 * used more times than it had uses, counting uses acknowledged before and
 * after the crash.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordFigures, scale } from './support/figures.js';
import { api, ensureBuilt, removeTempDirs, serve } from './support/serve.js';
import { gateKind, postgresKind, sqliteKind } from './support/stores.js';

beforeAll(() => ensureBuilt(), 120_000);
afterAll(() => removeTempDirs());

const USES = 3;

for (const kind of [sqliteKind, postgresKind]) {
  if (!(await gateKind(kind, 'kill -9 of the service under load'))) continue;
  describe(`kill -9 of tessera serve on ${kind.name}`, () => {
    it('loses no acknowledged create and consumes nothing twice across the crash', async () => {
      const store = await kind.open();
      try {
        const first = await serve({ store: store.url });
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

        const second = await serve({ store: store.url });
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
      } finally {
        await store.cleanup();
      }
    }, 90_000);
  });
}
