import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTesseraError } from '../../../src/core/errors.js';
import { createPostgresStore } from '../../../src/stores/postgres/index.js';
import {
  createTempPostgres,
  PG_BIN,
  postgresBinariesAvailable,
  type TempPostgres,
} from '../../support/postgres.js';

const SUITES = ['postgres fault: crash and restart of a private PostgreSQL under load'];

function binariesOrSkip(): boolean {
  if (postgresBinariesAvailable()) return true;
  const message = `PostgreSQL server binaries not found in ${PG_BIN} (set TESSERA_TEST_PG_BIN)`;
  if (process.env.CI === 'true') throw new Error(`${message}: the fault test cannot run in CI`);
  console.warn(`\n!! ${message}\n!! SKIPPED: ${SUITES.join('; ')}\n`);
  return false;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe.skipIf(!binariesOrSkip())('a PostgreSQL crash and restart under load', () => {
  let server: TempPostgres | undefined;
  beforeAll(async () => {
    server = await createTempPostgres();
    await server.start();
  }, 60_000);
  afterAll(async () => {
    await server?.destroy();
  }, 30_000);

  it('loses no acknowledged write, fails with typed errors while down, and recovers without a new store', async () => {
    const pg = server!;
    let reconnects = 0;
    const store = createPostgresStore(
      { url: pg.url },
      {
        schema: 'fault',
        poolConfig: { max: 8, connectionTimeoutMillis: 1000 },
        onError: () => {},
        onEventsReconnect: () => {
          reconnects++;
        },
      },
    );
    await store.migrate();
    const counter = { collection: 'counters', key: 'n' };
    await store.put({ ...counter, data: { n: 0 }, expiresAt: null }, { mode: 'insert', now: 0 });
    const heard: string[] = [];
    await store.events.subscribe('revoked', (m) => heard.push(m));

    const acked: string[] = [];
    const ackedPairs: string[] = [];
    const triedPairs: string[] = [];
    let ackedIncs = 0;
    let failedIncs = 0;
    const errorCodes = new Map<string, number>();
    const untyped: unknown[] = [];
    const otherErrors: string[] = [];
    let phase: 'up' | 'down' | 'restarting' | 'back' = 'up';
    const errorsIn = { up: 0, down: 0, restarting: 0, back: 0 };
    const acksIn = { up: 0, down: 0, restarting: 0, back: 0 };
    let stop = false;

    const failed = (err: unknown) => {
      errorsIn[phase]++;
      if (!isTesseraError(err)) {
        untyped.push(err);
        return;
      }
      errorCodes.set(err.code, (errorCodes.get(err.code) ?? 0) + 1);
      if (err.code !== 'ERR_TESSERA_STORE_UNAVAILABLE') {
        otherErrors.push(`${phase}: ${err.name}: ${err.message}`);
      }
    };
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const key = `w${w}-${i}`;
        try {
          const r = await store.put(
            { collection: 'acked', key, data: { w, i }, expiresAt: null },
            { mode: 'insert', now: 0 },
          );
          if (r.ok) {
            acked.push(key);
            acksIn[phase]++;
          }
        } catch (err) {
          failed(err);
        }
        try {
          const r = await store.update(counter, { inc: { n: 1 } });
          if (r.ok) ackedIncs++;
        } catch (err) {
          failedIncs++;
          failed(err);
        }
        if (i % 3 === 0) {
          const partition = `tx-${key}`;
          triedPairs.push(partition);
          try {
            const r = await store.transact(
              ['a', 'b'].map((s) => ({
                type: 'put' as const,
                mode: 'insert' as const,
                record: {
                  collection: 'pairs',
                  key: `${partition}-${s}`,
                  partition,
                  data: {},
                  expiresAt: null,
                },
              })),
              0,
            );
            if (r.ok) ackedPairs.push(partition);
          } catch (err) {
            failed(err);
          }
        }
        if (phase === 'down') await sleep(20);
      }
    };

    const workers = Array.from({ length: 6 }, (_, w) => worker(w));
    await until(() => acksIn.up >= 200, 15_000, 'load before the crash');
    await pg.stop('immediate'); // SIGQUIT: a crash, the WAL is replayed on start
    phase = 'down';
    await until(() => errorsIn.down >= 30, 10_000, 'errors while the server is down');
    await sleep(500);
    phase = 'restarting';
    await pg.start();
    phase = 'back';
    // The same store, with no restart, works again.
    await until(() => acksIn.back >= 100, 20_000, 'writes after the restart');
    stop = true;
    await Promise.all(workers);

    // Every error was typed: unavailable while down (a conflict is allowed, never a raw error).
    expect(untyped).toEqual([]);
    expect(otherErrors).toEqual([]);
    expect([...errorCodes.keys()]).toEqual(['ERR_TESSERA_STORE_UNAVAILABLE']);
    expect(errorsIn.down).toBeGreaterThan(0);
    expect(acksIn.down).toBe(0);

    // No acknowledged write was lost.
    for (let i = 0; i < acked.length; i += 500) {
      const chunk = acked.slice(i, i + 500).map((key) => ({ collection: 'acked', key }));
      const got = await store.getMany(chunk);
      expect(got.filter((r) => r === null)).toHaveLength(0);
    }
    const n = (await store.get(counter))?.data.n as number;
    expect(n).toBeGreaterThanOrEqual(ackedIncs);
    expect(n).toBeLessThanOrEqual(ackedIncs + failedIncs);
    // Transactions are all-or-nothing, also when the connection died under them.
    for (const partition of triedPairs) {
      const [a, b] = await store.getMany(
        ['a', 'b'].map((s) => ({ collection: 'pairs', key: `${partition}-${s}`, partition })),
      );
      expect(a === null).toBe(b === null);
      if (ackedPairs.includes(partition)) expect(a).not.toBeNull();
    }

    // The events listener came back by itself.
    await until(() => reconnects >= 1, 15_000, 'the events listener to reconnect');
    const other = createPostgresStore({ url: pg.url }, { schema: 'fault' });
    await other.events.publish('revoked', 'after-restart');
    await until(() => heard.includes('after-restart'), 5000, 'a message after the restart');
    await other.close();
    await store.close();
    console.warn(
      `fault test: ${acked.length} acked inserts, ${ackedIncs} acked increments (${failedIncs} failed, counter ${n}), ${ackedPairs.length}/${triedPairs.length} acked transactions, errors up/down/restarting/back ${errorsIn.up}/${errorsIn.down}/${errorsIn.restarting}/${errorsIn.back}`,
    );
  }, 90_000);
});
