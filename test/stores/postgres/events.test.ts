import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresStore } from '../../../src/stores/postgres/index.js';
import { openTestDatabase, requirePostgres } from '../../support/postgres.js';
import { statusLog } from '../../support/status-log.js';
import { gatedPool } from './helpers.js';

const SUITES = ['postgres events: LISTEN/NOTIFY delivery and listener reconnection'];
const available = await requirePostgres(SUITES);
const db = available ? openTestDatabase() : null;
afterAll(() => db?.end());

/** Resolve with the next `n` messages on `channel`, or reject after `ms`. */
function collect(
  subscribe: (fn: (m: string) => void) => Promise<() => Promise<void>>,
  n: number,
  ms = 3000,
): { done: Promise<string[]>; ready: Promise<() => Promise<void>> } {
  const got: string[] = [];
  let resolve: (v: string[]) => void = () => {};
  const done = new Promise<string[]>((res, rej) => {
    resolve = res;
    setTimeout(() => rej(new Error(`got ${JSON.stringify(got)} of ${n} messages`)), ms).unref();
  });
  const ready = subscribe((m) => {
    got.push(m);
    if (got.length === n) resolve(got);
  });
  return { done, ready };
}

async function waitFor(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.skipIf(!available)('postgres events', () => {
  it('delivers to subscribers of other stores on the same schema, once, and not across schemas', async () => {
    const schema = db!.schema();
    const a = createPostgresStore({ pool: db!.pool }, { schema });
    const b = createPostgresStore({ url: db!.url }, { schema });
    const other = createPostgresStore({ pool: db!.pool }, { schema: db!.schema() });
    try {
      const onA = collect((fn) => a.events.subscribe('sessions:revoked', fn), 2);
      const onB = collect((fn) => b.events.subscribe('sessions:revoked', fn), 2);
      const stray: string[] = [];
      await other.events.subscribe('sessions:revoked', (m) => stray.push(m));
      await Promise.all([onA.ready, onB.ready]);
      await a.events.publish('sessions:revoked', 'from a: s1');
      await b.events.publish('sessions:revoked', 'from b with spaces');
      // Each store gets its own message at once and the other's through the server:
      // order across publishers is not defined, delivery exactly once is.
      expect((await onA.done).sort()).toEqual(['from a: s1', 'from b with spaces']);
      expect((await onB.done).sort()).toEqual(['from a: s1', 'from b with spaces']);
      await new Promise((r) => setTimeout(r, 100));
      expect(stray).toEqual([]);
    } finally {
      await Promise.all([a.close(), b.close(), other.close()]);
    }
  });

  it('holds one listening connection while there are subscribers, and gives it back after', async () => {
    const schema = db!.schema();
    const store = createPostgresStore({ pool: db!.pool }, { schema });
    const listeners = async () =>
      Number(
        (
          await db!.pool.query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE query = $1 AND state = 'idle'",
            [`LISTEN "tessera_events_${schema}"`],
          )
        ).rows[0].n,
      );
    try {
      const off1 = await store.events.subscribe('a', () => {});
      const off2 = await store.events.subscribe('b', () => {});
      expect(await listeners()).toBe(1);
      await off1();
      expect(await listeners()).toBe(1);
      await off2();
      await waitFor(async () => (await listeners()) === 0);
    } finally {
      await store.close();
    }
  });

  it('keeps listening when a subscription arrives while the last one is being removed', async () => {
    const schema = db!.schema();
    const store = createPostgresStore({ pool: db!.pool }, { schema });
    const publisher = createPostgresStore({ pool: db!.pool }, { schema });
    try {
      // Re-subscribe at several points inside the removal, so one lands mid-UNLISTEN.
      for (let ticks = 0; ticks < 12; ticks++) {
        const got: string[] = [];
        const off = await store.events.subscribe('c', () => {});
        const removing = off();
        for (let t = 0; t < ticks; t++) await Promise.resolve();
        const offAgain = await store.events.subscribe('c', (m) => got.push(m));
        await removing;
        await publisher.events.publish('c', `heard ${ticks}`);
        await waitFor(() => got.includes(`heard ${ticks}`), 3000);
        await offAgain();
      }
    } finally {
      await store.close();
      await publisher.close();
    }
  });

  it('reconnects the listener after its connection is killed, and tells the application', async () => {
    const schema = db!.schema();
    const pool = new pg.Pool({ connectionString: db!.url, max: 4 });
    pool.on('error', () => {});
    let reconnects = 0;
    const errors: unknown[] = [];
    const store = createPostgresStore(
      { pool },
      {
        schema,
        onEventsReconnect: () => {
          reconnects++;
        },
        onError: (e) => errors.push(e),
      },
    );
    const publisher = createPostgresStore({ pool: db!.pool }, { schema });
    try {
      const first = collect((fn) => store.events.subscribe('c', fn), 1);
      await first.ready;
      await publisher.events.publish('c', 'before');
      expect(await first.done).toEqual(['before']);

      const got: string[] = [];
      await store.events.subscribe('c', (m) => got.push(m));
      await db!.pool.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1',
        [`LISTEN "tessera_events_${schema}"`],
      );
      await waitFor(() => reconnects === 1);
      expect(errors.length).toBeGreaterThan(0);
      expect(errors[0]).toMatchObject({ code: 'ERR_TESSERA_STORE_UNAVAILABLE' });
      await publisher.events.publish('c', 'after');
      await waitFor(() => got.includes('after'), 3000);
    } finally {
      await store.close();
      await publisher.close();
      await pool.end();
    }
  });

  it('tells a subscription its delivery stopped when the listening backend is terminated, and resumed once LISTEN is back; what was sent between is lost', async () => {
    const schema = db!.schema();
    const pool = new pg.Pool({ connectionString: db!.url, max: 4 });
    pool.on('error', () => {});
    // New dedicated connections wait while held: the listener stays down until released.
    const gated = gatedPool(pool);
    let reconnects = 0;
    const store = createPostgresStore(
      { pool: gated.pool },
      { schema, onError: () => {}, onEventsReconnect: () => reconnects++ },
    );
    const publisher = createPostgresStore({ pool: db!.pool }, { schema });
    const got: string[] = [];
    const status = statusLog();
    try {
      const off = await store.events.subscribe('c', (m) => got.push(m), {
        onStatus: status.onStatus,
      });
      await publisher.events.publish('c', 'before');
      await waitFor(() => got.includes('before'), 3000);
      expect(status.seen).toEqual([]);

      gated.hold();
      await db!.pool.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1',
        [`LISTEN "tessera_events_${schema}"`],
      );
      expect(await status.nth(1)).toBe(false);
      await publisher.events.publish('c', 'lost');
      gated.release();
      expect(await status.nth(2)).toBe(true);
      // The older signal still comes, after the status.
      await waitFor(() => reconnects === 1);
      await publisher.events.publish('c', 'after');
      await waitFor(() => got.includes('after'), 3000);
      expect(got).toEqual(['before', 'after']);
      expect(status.seen).toEqual([false, true]);
      await off();
      await store.close();
      expect(status.seen).toEqual([false, true]); // unsubscribed before: told nothing more
    } finally {
      gated.release();
      await store.close();
      await publisher.close();
      await pool.end();
    }
  });

  it('tells its subscriptions delivery stopped when the store is closed', async () => {
    const store = createPostgresStore({ pool: db!.pool }, { schema: db!.schema() });
    const status = statusLog();
    await store.events.subscribe('c', () => {}, { onStatus: status.onStatus });
    await store.close();
    expect(status.seen).toEqual([false]);
  });

  it('fails a subscription it cannot set up with StoreUnavailableError', async () => {
    const store = createPostgresStore(
      { url: 'postgres://postgres@127.0.0.1:1/none' },
      { poolConfig: { connectionTimeoutMillis: 500 } },
    );
    await expect(store.events.subscribe('c', () => {})).rejects.toMatchObject({
      code: 'ERR_TESSERA_STORE_UNAVAILABLE',
    });
    await store.close();
  });
});
