/**
 * kill -9 of `tessera serve` under load, then a restart on the same store.
 * Every answer is judged by the phase it fell in: before the kill every create
 * is 201 with its token and every use of a fresh token is 200 and valid; a
 * request may fail only once the kill was started, and only with a dropped
 * connection (refused, reset, closed). A create whose answer was lost is
 * unknown: after the restart it is there untouched or not there at all.
 * After the restart every acknowledged create is there with exactly the uses
 * its acknowledged use leaves (one fewer when its use's answer was lost and
 * the use was applied), so no write is lost and nothing is consumed twice;
 * any other answer of the restarted instance fails the test. Afterwards the
 * store's full dump, both instances' logs and their data directories hold
 * none of the token values issued, nor the admin credential or server secret
 * (plain, hex or base64).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionError, describeError } from './support/connection-errors.js';
import { recordFigures, scale } from './support/figures.js';
import { filesUnder, scanAndRecord } from './support/leaks.js';
import {
  type Answer,
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

/** Uses per token: the workers use each token once, so an acknowledged one is never used up. */
const USES = 3;
const ACTION = 'crash';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Run `fn` on every item, `limit` at a time. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: limit }, lane));
}

for (const kind of [sqliteKind, postgresKind]) {
  if (!(await gateKind(kind, 'kill -9 of the service under load'))) continue;
  describe(`kill -9 of tessera serve on ${kind.name}`, () => {
    it('loses no acknowledged create and consumes nothing twice across the crash', async () => {
      const store = await kind.open();
      const secrets = serviceSecrets();
      const dataDir = tempDir();
      try {
        const first = await serve({ store: store.url, dataDir });
        // Phases, in order: `load` (the service runs), `killing` (SIGKILL sent, not yet
        // gone), `dead`. Every answer that arrives must be the right one, whenever it
        // arrives (a killed process writes no wrong answer); a request may fail only
        // with a dropped connection, and only if it ended after the kill was started.
        type Phase = 'load' | 'killing' | 'dead';
        let phase: Phase = 'load';
        const acked: string[] = [];
        const values = new Map<string, string>();
        /** Acknowledged valid uses, by owner. */
        const validUses = new Map<string, number>();
        /** Uses whose answer was lost: applied or not. */
        const uncertainUses = new Map<string, number>();
        /** Creates whose answer was lost: applied or not. */
        const unknownCreates: string[] = [];
        const answers: Record<string, number> = {};
        const bad: string[] = [];
        /** Requests in flight when the kill was started (answered or cut). */
        let inFlightAtKill = 0;
        /** Requests that failed with a dropped connection. */
        let cut = 0;
        let stop = false;
        let n = 0;
        const spanOf = (began: Phase) => (began === phase ? began : `${began}->${phase}`);
        const tally = (key: string) => {
          answers[key] = (answers[key] ?? 0) + 1;
        };
        /** Judge an answer; returns whether it is `ok`, recording it as unexpected if not. */
        const judge = (what: string, r: Answer, began: Phase, ok: (r: Answer) => boolean) => {
          const span = spanOf(began);
          if (began === 'load' && phase !== 'load') inFlightAtKill++;
          tally(`${what} ${span}: ${r.status}`);
          if (ok(r)) return true;
          bad.push(`${what} in ${span}: ${r.status} ${r.text.slice(0, 200)}`);
          return false;
        };
        /** Judge a request that threw: only a dropped connection, only once the kill began. */
        const dropped = (what: string, err: unknown, began: Phase) => {
          const span = spanOf(began);
          const label = connectionError(err);
          tally(`${what} ${span}: ${label ?? 'other error'}`);
          if (began === 'load' && phase !== 'load') inFlightAtKill++;
          if (label === null || phase === 'load')
            bad.push(`${what} in ${span}: ${describeError(err).slice(0, 300)}`);
          else cut++;
        };
        const worker = async () => {
          while (!stop) {
            const owner = `k9-${n++}`;
            let began = phase;
            let r: Answer;
            try {
              r = await api(first.url, 'POST', '/v1/action-tokens', {
                owner,
                action: ACTION,
                remainingUses: USES,
              });
            } catch (err) {
              dropped('create', err, began);
              unknownCreates.push(owner);
              return; // the service is gone
            }
            const created = judge(
              'create',
              r,
              began,
              (x) =>
                x.status === 201 &&
                typeof x.body?.value === 'string' &&
                x.body.token?.owner === owner &&
                x.body.token?.action === ACTION &&
                x.body.token?.remainingUses === USES,
            );
            secrets.addFrom(`action token ${owner}`, r.body);
            if (!created) continue;
            acked.push(owner);
            values.set(owner, r.body.value);
            began = phase;
            let u: Answer;
            try {
              u = await api(first.url, 'POST', '/v1/action-tokens/use', {
                owner,
                action: ACTION,
                value: r.body.value,
                drainWhenValid: false,
              });
            } catch (err) {
              dropped('use', err, began);
              uncertainUses.set(owner, (uncertainUses.get(owner) ?? 0) + 1);
              return;
            }
            // The first use of a fresh token of USES uses: valid, USES - 1 left.
            if (
              judge(
                'use',
                u,
                began,
                (x) =>
                  x.status === 200 &&
                  x.body?.valid === true &&
                  x.body.token?.remainingUses === USES - 1,
              )
            )
              validUses.set(owner, (validUses.get(owner) ?? 0) + 1);
          }
        };
        const workers = Array.from({ length: 16 }, worker);
        await sleep(scale(1500, 10_000));
        phase = 'killing';
        await first.kill9();
        phase = 'dead';
        stop = true;
        await Promise.all(workers);

        const second = await serve({ store: store.url, dataDir });
        let lostCreates = 0;
        let lostUses = 0;
        let overUsed = 0;
        let uncertainApplied = 0;
        let unknownApplied = 0;
        const peek = (owner: string) =>
          api(second.url, 'POST', '/v1/action-tokens/peek', { owner, action: ACTION });
        const peeked = (owner: string, r: Answer) =>
          r.status === 200 &&
          r.body?.token?.owner === owner &&
          r.body.token.action === ACTION &&
          Number.isInteger(r.body.token.remainingUses);
        try {
          // Every acknowledged create is there, with USES less its acknowledged use, less
          // its use whose answer was lost if that was applied: a 404 is a lost create, more
          // uses left is a lost use, fewer is a use applied twice. Then it is used until
          // refused: exactly the uses left are valid.
          await eachLimited(acked, 8, async (owner) => {
            const p = await peek(owner);
            if (p.status === 404) {
              lostCreates++;
              return;
            }
            if (!peeked(owner, p)) {
              bad.push(`peek of acknowledged ${owner}: ${p.status} ${p.text.slice(0, 200)}`);
              return;
            }
            const used = validUses.get(owner) ?? 0;
            const maybe = uncertainUses.get(owner) ?? 0;
            const left = p.body.token.remainingUses as number;
            if (left > USES - used) lostUses++;
            else if (left < USES - used - maybe) overUsed++;
            else if (left < USES - used) uncertainApplied++;
            let more = 0;
            for (let i = 0; i < USES + 1; i++) {
              const u = await api(second.url, 'POST', '/v1/action-tokens/use', {
                owner,
                action: ACTION,
                value: values.get(owner),
                drainWhenValid: false,
              });
              if (u.status !== 200 || typeof u.body?.valid !== 'boolean') {
                bad.push(`use of ${owner} after the restart: ${u.status} ${u.text.slice(0, 200)}`);
                return;
              }
              if (u.body.valid === true) more++;
            }
            if (used + more > USES) overUsed++;
            else if (more !== left)
              bad.push(`${owner}: peek said ${left} uses left, ${more} were valid`);
          });
          // A create whose answer was lost: there untouched (its value never reached a use)
          // or not there at all.
          await eachLimited(unknownCreates, 8, async (owner) => {
            const p = await peek(owner);
            if (p.status === 404) return;
            if (peeked(owner, p) && p.body.token.remainingUses === USES) unknownApplied++;
            else bad.push(`peek of unknown ${owner}: ${p.status} ${p.text.slice(0, 200)}`);
          });
        } finally {
          await second.stop();
        }
        const lost = lostCreates + lostUses;
        const uncertain = [...uncertainUses.values()].reduce((a, b) => a + b, 0);
        recordFigures(`kill9-${kind.name}`, {
          backend: kind.name,
          acknowledgedCreates: acked.length,
          acknowledgedUses: [...validUses.values()].reduce((a, b) => a + b, 0),
          lost,
          lostCreates,
          lostUses,
          overUsed,
          unknownCreates: unknownCreates.length,
          unknownCreatesApplied: unknownApplied,
          uncertainUses: uncertain,
          uncertainUsesApplied: uncertainApplied,
          inFlightAtKill,
          cutByKill: cut,
          answersByPhase: answers,
          unexpectedAnswers: bad.length,
          unexpectedSamples: bad.slice(0, 20),
          survived: lost === 0 && overUsed === 0 && bad.length === 0 && acked.length > 10,
        });
        expect({ unexpected: bad.length, samples: bad.slice(0, 20) }).toEqual({
          unexpected: 0,
          samples: [],
        });
        expect(acked.length).toBeGreaterThan(10);
        expect(lost).toBe(0);
        expect(overUsed).toBe(0);
        // The kill landed under load: requests were in flight when it was started.
        expect(inFlightAtKill).toBeGreaterThan(0);

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
