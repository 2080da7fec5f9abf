import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../../../src/stores/redis/index.js';
import { defineAllSuites } from '../../../src/testing/index.js';
import { gateBackend, redisBinariesAvailable } from '../../support/backends.js';
import { type RedisCluster, startRedisCluster } from '../../support/redis-cluster.js';
import { CLIENT_OPTIONS, runPrefix } from './helpers.js';
import { createStore as openWorkerStore, WORKER_MODULE } from './worker-store.js';

const ok = gateBackend(
  'redis-server and redis-cli (to start a private cluster)',
  await redisBinariesAvailable(),
  ['every conformance suite on a 3-master Redis Cluster'],
);

if (ok) {
  let cluster: RedisCluster | undefined;
  let client: Cluster | undefined;
  const prefix = runPrefix('cluster');

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    client = new Cluster(cluster.nodes.slice(), {
      enableOfflineQueue: false,
      redisOptions: CLIENT_OPTIONS,
    });
    client.on('error', () => {});
    await new Promise((resolve, reject) => {
      client?.once('ready', resolve);
      setTimeout(() => reject(new Error('cluster client not ready in 20 s')), 20_000);
    });
  }, 120_000);

  afterAll(async () => {
    await client?.quit().catch(() => client?.disconnect());
    await cluster?.stop();
  }, 60_000);

  const need = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('the cluster did not start');
    return v;
  };

  defineAllSuites({
    name: 'redis cluster (3 masters)',
    runner: { describe, it },
    createStore: async () => {
      const store = createRedisStore({ client: need(client), prefix });
      await store.migrate();
      return store;
    },
    multiProcess: {
      processes: 3,
      createSharedStore: async () => {
        const arg = { url: need(cluster).url, prefix };
        return { store: await openWorkerStore(arg), spec: { module: WORKER_MODULE, arg } };
      },
    },
  });

  describe('redis cluster: distribution', () => {
    it('spreads partitions over every master while each partition stays in one slot', async () => {
      const c = need(client);
      const store = createRedisStore({ client: c, prefix: runPrefix('spread') });
      for (let i = 0; i < 60; i++) {
        const r = await store.transact(
          [
            {
              type: 'put',
              record: {
                collection: 'a',
                key: `x${i}`,
                partition: `p${i}`,
                data: { i },
                expiresAt: null,
                index: { owner: `o${i % 5}` },
              },
              mode: 'insert',
            },
            {
              type: 'put',
              record: {
                collection: 'b',
                key: `y${i}`,
                partition: `p${i}`,
                data: { i },
                expiresAt: null,
              },
              mode: 'insert',
            },
          ],
          0,
        );
        expect(r.ok).toBe(true);
      }
      const sizes = await Promise.all(c.nodes('master').map((n) => n.dbsize()));
      expect(sizes).toHaveLength(3);
      for (const n of sizes) expect(n).toBeGreaterThan(10);
      const owners = await store.findByIndex('a', 'owner', 'o3');
      expect(owners.records.map((r) => r.key)).toEqual([
        'x13',
        'x18',
        'x23',
        'x28',
        'x3',
        'x33',
        'x38',
        'x43',
        'x48',
        'x53',
        'x58',
        'x8',
      ]);
      expect((await store.list('b', { limit: 1000 })).records).toHaveLength(60);
      await store.close();
    });

    it('switches to the Cluster protocol by itself when told it has a single server', async () => {
      const c = need(client);
      const errors: unknown[] = [];
      const store = createRedisStore({
        client: c,
        prefix: runPrefix('single'),
        singleNode: true,
        onError: (e) => errors.push(e),
      });
      const record = {
        collection: 'a',
        key: 'k',
        partition: 'p',
        data: { n: 1 },
        expiresAt: null,
        index: { owner: 'o' },
      };
      // The single-server script spans slots: the cluster refuses it (CROSSSLOT) before it runs.
      const first = await store.put(record, { mode: 'insert', now: 0 });
      expect(first.ok).toBe(true);
      const again = await store.put(record, { mode: 'insert', now: 0 });
      expect(again.ok).toBe(false);
      expect((await store.findByIndex('a', 'owner', 'o')).records.map((r) => r.key)).toEqual(['k']);
      expect((await store.list('a')).records.map((r) => r.key)).toEqual(['k']);
      expect(errors).toEqual([]);
      await store.close();
    });
  });
}
