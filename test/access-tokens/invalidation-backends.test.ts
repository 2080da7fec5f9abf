/**
 * The verify cache when the store's event connection fails, on real servers:
 * a private Redis that refuses the subscriber connection for a while, and the
 * machine's PostgreSQL with the listening connection killed.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type AccessTokens, createAccessTokens } from '../../src/access-tokens/index.js';
import type { Store } from '../../src/stores/contract.js';
import { createPostgresStore } from '../../src/stores/postgres/index.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { openClient } from '../stores/redis/helpers.js';
import { gateBackend, redisBinariesAvailable } from '../support/backends.js';
import { openTestDatabase, requirePostgres } from '../support/postgres.js';
import { startRedisServer } from '../support/redis-cluster.js';

async function until(check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** `store` with its `get` calls counted. */
function counting(store: Store): { store: Store; reads: () => number } {
  let reads = 0;
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop !== 'get') return Reflect.get(target, prop, receiver);
      return (ref: Parameters<Store['get']>[0]) => {
        reads++;
        return target.get(ref);
      };
    },
  });
  return { store: proxy, reads: () => reads };
}

if (
  gateBackend('redis-server (to start a private one)', await redisBinariesAvailable(), [
    'access tokens: a Redis that refuses the subscriber connection',
  ])
) {
  describe('access tokens on a Redis that refuses the subscriber connection', () => {
    it('reads the store while it cannot subscribe, reports it, and uses the cache once the retry succeeds', async () => {
      const server = await startRedisServer();
      const admin = await openClient(server.url);
      const prefix = `tessera-test:pat-events:${randomBytes(4).toString('hex')}`;
      const storeA = createRedisStore({ url: server.url, prefix });
      const storeB = createRedisStore({ url: server.url, prefix });
      const pats: AccessTokens[] = [];
      try {
        await storeA.migrate();
        await storeB.migrate();
        // Every connection but the ones open now is refused: B's subscriber cannot connect.
        const clients = String(await admin.call('CLIENT', 'LIST'))
          .trim()
          .split('\n').length;
        await admin.call('CONFIG', 'SET', 'maxclients', String(clients));
        const errors: unknown[] = [];
        const counted = counting(storeB);
        const b = createAccessTokens({
          store: counted.store,
          cache: { ttlMs: 300_000 },
          onError: (err) => errors.push(err),
        });
        const a = createAccessTokens({ store: storeA });
        pats.push(a, b);
        await until(() => errors.length >= 1);
        expect(errors[0]).toMatchObject({ code: 'ERR_TESSERA_STORE_UNAVAILABLE' });

        const { token, record } = await a.issue({ owner: 'o' });
        expect((await b.verify(token)).valid).toBe(true);
        await a.revoke(record.tokenId); // its event cannot reach B
        expect((await b.verify(token)).reason).toBe('revoked');
        await a.restore(record.tokenId);
        expect((await b.verify(token)).valid).toBe(true);

        await admin.call('CONFIG', 'SET', 'maxclients', '10000');
        await b.ready();
        expect((await b.verify(token)).valid).toBe(true);
        const reads = counted.reads();
        expect((await b.verify(token)).valid).toBe(true);
        expect(counted.reads()).toBe(reads); // from the cache
        await a.revoke(record.tokenId);
        await until(async () => (await b.verify(token)).reason === 'revoked', 1000);
      } finally {
        for (const p of pats) await p.close();
        await storeA.close();
        await storeB.close();
        await admin.quit().catch(() => admin.disconnect());
        await server.stop();
      }
    }, 60_000);
  });
}

if (await requirePostgres(['access tokens: a PostgreSQL listener that reconnects'])) {
  const db = openTestDatabase();
  afterAll(() => db.end());

  describe('access tokens on PostgreSQL when the listening connection is killed', () => {
    it('does not serve a token revoked while the listener was down once it is back, when onEventsReconnect calls clearCache()', async () => {
      const schema = db.schema();
      const pool = new pg.Pool({ connectionString: db.url, max: 4 });
      pool.on('error', () => {});
      let reconnects = 0;
      const wired: AccessTokens[] = [];
      const storeB = createPostgresStore(
        { pool },
        {
          schema,
          onError: () => {},
          onEventsReconnect: () => {
            reconnects++;
            for (const p of wired) p.clearCache();
          },
        },
      );
      const storeA = createPostgresStore({ pool: db.pool }, { schema });
      await storeA.migrate();
      await storeB.migrate();
      const a = createAccessTokens({ store: storeA });
      const b = createAccessTokens({ store: storeB, cache: { ttlMs: 300_000 } });
      wired.push(b);
      // The same store, not told of the reconnect: it shows whether a message was really lost.
      const control = createAccessTokens({ store: storeB, cache: { ttlMs: 300_000 } });
      try {
        await b.ready();
        await control.ready();
        const { token, record } = await a.issue({ owner: 'o' });
        let lost = false;
        for (let attempt = 0; attempt < 10 && !lost; attempt++) {
          expect((await b.verify(token)).valid).toBe(true);
          expect((await control.verify(token)).valid).toBe(true);
          const before = reconnects;
          await db.pool.query(
            'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1',
            [`LISTEN "tessera_events_${schema}"`],
          );
          await a.revoke(record.tokenId);
          await until(() => reconnects > before);
          lost = (await control.verify(token)).valid;
          // Delivered after all: B heard it too. Undo, and try again.
          if (!lost) {
            expect((await b.verify(token)).reason).toBe('revoked');
            await a.restore(record.tokenId);
          }
        }
        expect(lost, 'a revoke was published while the listener was down').toBe(true);
        expect((await b.verify(token)).reason).toBe('revoked');
      } finally {
        for (const p of [a, b, control]) await p.close();
        await storeA.close();
        await storeB.close();
        await pool.end();
      }
    }, 60_000);
  });
}
