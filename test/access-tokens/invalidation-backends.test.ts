/**
 * The verify cache when the store's event connection fails, on real servers:
 * a private Redis that refuses the subscriber connection for a while, the
 * machine's Redis with the subscriber connection killed (`CLIENT KILL ID`),
 * and the machine's PostgreSQL with the listening backend terminated. While
 * the store reports its delivery stopped, verify reads the store, so a revoke
 * whose event is lost in the gap is seen at once; with no wiring by the user.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type AccessTokens, createAccessTokens } from '../../src/access-tokens/index.js';
import { createFakeClock } from '../../src/core/clock.js';
import type { Store } from '../../src/stores/contract.js';
import { createPostgresStore } from '../../src/stores/postgres/index.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { gatedPool } from '../stores/postgres/helpers.js';
import { startFaultProxy } from '../stores/redis/fault-proxy.js';
import { deleteKeys, killSubscriber, openClient, runPrefix } from '../stores/redis/helpers.js';
import {
  gateBackend,
  REDIS_URL,
  redisAvailable,
  redisBinariesAvailable,
  redisHostPort,
} from '../support/backends.js';
import { openTestDatabase, requirePostgres } from '../support/postgres.js';
import { startRedisServer } from '../support/redis-cluster.js';
import { statusLog } from '../support/status-log.js';

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

/** What the gap tests share: the instance under test, another process's, and what they see. */
interface GapRig {
  /** The instance with the cache, on the store whose event connection is cut. */
  readonly b: AccessTokens;
  /** Another instance, on another store: its events are the ones B must hear. */
  readonly a: AccessTokens;
  /** B's store reads. */
  readonly reads: () => number;
  /** Cut B's event connection and keep it down. */
  cut(): Promise<void>;
  /** Let it come back. */
  restore(): void;
  /** Publish a message from A's store. */
  publish(message: string): Promise<void>;
  /** Messages B's store delivered on the cache's channel, and its statuses. */
  readonly heard: string[];
  readonly status: ReturnType<typeof statusLog>;
}

/**
 * The scenario on either backend: a cached token, the event connection cut,
 * a revoke from the other process while it is down, and the cache back.
 */
async function revokeDuringGap(rig: GapRig): Promise<void> {
  const { a, b, reads, heard, status } = rig;
  await b.ready();
  const { token, record } = await a.issue({ owner: 'o' });
  expect((await b.verify(token)).valid).toBe(true);
  let before = reads();
  expect((await b.verify(token)).valid).toBe(true);
  expect(reads(), 'answered from the cache').toBe(before);

  await rig.cut();
  expect(await status.nth(1)).toBe(false);
  await a.revoke(record.tokenId); // its event cannot reach B
  before = reads();
  expect((await b.verify(token)).reason).toBe('revoked');
  expect(reads(), 'read from the store during the gap').toBe(before + 1);

  rig.restore();
  expect(await status.nth(2)).toBe(true);
  await b.ready();
  // The revoke's event was lost: a marker published after the resubscription
  // arrives, and the revoke's (sent before it on the same channel) never did.
  await rig.publish('marker');
  await until(() => heard.includes('marker'), 5000);
  expect(heard).not.toContain(record.tokenId);

  expect((await b.verify(token)).reason).toBe('revoked');
  before = reads();
  expect((await b.verify(token)).reason).toBe('revoked');
  expect(reads(), 'the cache answers again').toBe(before);
  // And events invalidate it again.
  await a.restore(record.tokenId);
  await until(async () => (await b.verify(token)).valid, 5000);
  expect(status.seen).toEqual([false, true]);
}

if (
  gateBackend(`Redis at ${REDIS_URL}`, await redisAvailable(), [
    'access tokens: a Redis subscriber connection that is killed',
  ])
) {
  const prefix = runPrefix('pat-gap');
  afterAll(async () => {
    const client = await openClient(REDIS_URL);
    await deleteKeys(client, prefix);
    await client.quit();
  });

  describe('access tokens on Redis when the subscriber connection is killed', () => {
    it('reads the store while the subscriber is down, so a revoke whose event is lost is seen at once, and uses the cache again once resubscribed', async () => {
      // B's connections pass a proxy that holds the subscriber's reconnection.
      const proxy = await startFaultProxy(redisHostPort());
      const name = `tessera-test-pat-${randomBytes(4).toString('hex')}`;
      const clientB = await openClient(proxy.url, { connectionName: name });
      const storeA = createRedisStore({ url: REDIS_URL, prefix });
      const storeB = createRedisStore({ client: clientB, prefix });
      const admin = await openClient(REDIS_URL);
      const clock = createFakeClock();
      const pats: AccessTokens[] = [];
      try {
        await storeA.migrate();
        await storeB.migrate();
        const counted = counting(storeB);
        const b = createAccessTokens({ store: counted.store, clock, cache: { ttlMs: 300_000 } });
        const a = createAccessTokens({ store: storeA, clock });
        pats.push(a, b);
        const heard: string[] = [];
        const status = statusLog();
        await storeB.events.subscribe('pat:changed', (m) => heard.push(m), {
          onStatus: status.onStatus,
        });
        await revokeDuringGap({
          a,
          b,
          reads: counted.reads,
          heard,
          status,
          async cut() {
            proxy.hold();
            expect(await killSubscriber(admin, name)).toBe(1);
          },
          restore: () => proxy.release(),
          publish: (message) => storeA.events.publish('pat:changed', message),
        });
      } finally {
        proxy.release();
        for (const p of pats) await p.close();
        await storeA.close();
        await storeB.close();
        await clientB.quit().catch(() => clientB.disconnect());
        await admin.quit();
        await proxy.close();
      }
    }, 60_000);
  });
}

if (await requirePostgres(['access tokens: a PostgreSQL listener that reconnects'])) {
  const db = openTestDatabase();
  afterAll(() => db.end());

  describe('access tokens on PostgreSQL when the listening backend is terminated', () => {
    it('reads the store while the listener is down, so a revoke whose notification is lost is seen at once, and uses the cache again once it listens', async () => {
      const schema = db.schema();
      const pool = new pg.Pool({ connectionString: db.url, max: 4 });
      pool.on('error', () => {});
      // B's new dedicated connections wait while held: its listener stays down until released.
      const gated = gatedPool(pool);
      const storeB = createPostgresStore({ pool: gated.pool }, { schema, onError: () => {} });
      const storeA = createPostgresStore({ pool: db.pool }, { schema });
      await storeA.migrate();
      await storeB.migrate();
      const clock = createFakeClock();
      const counted = counting(storeB);
      const b = createAccessTokens({ store: counted.store, clock, cache: { ttlMs: 300_000 } });
      const a = createAccessTokens({ store: storeA, clock });
      const heard: string[] = [];
      const status = statusLog();
      try {
        await storeB.events.subscribe('pat:changed', (m) => heard.push(m), {
          onStatus: status.onStatus,
        });
        await revokeDuringGap({
          a,
          b,
          reads: counted.reads,
          heard,
          status,
          async cut() {
            gated.hold();
            const killed = await db.pool.query(
              'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1',
              [`LISTEN "tessera_events_${schema}"`],
            );
            expect(killed.rowCount).toBe(1);
          },
          restore: () => gated.release(),
          publish: (message) => storeA.events.publish('pat:changed', message),
        });
      } finally {
        gated.release();
        for (const p of [a, b]) await p.close();
        await storeA.close();
        await storeB.close();
        await pool.end();
      }
    }, 60_000);
  });
}
