/**
 * At most once per write call on a Redis Cluster: an ioredis `Cluster` at its
 * defaults reaches each master through a proxy (`natMap`) that lets a script
 * run and then cuts the connection before the answer comes back. The client
 * sends the script again; the write must be applied once, the caller must get
 * the answer of that one application, and no list or index entry may be left
 * with a pending writer.
 */
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActionTokens } from '../../../src/action-tokens/index.js';
import type { RecordInput } from '../../../src/stores/contract.js';
import { createRedisStore, type RedisStore } from '../../../src/stores/redis/index.js';
import { memberOf } from '../../../src/stores/redis/keys.js';
import { testKeyring } from '../../../src/testing/index.js';
import { gateBackend, redisBinariesAvailable } from '../../support/backends.js';
import { type RedisCluster, startRedisCluster } from '../../support/redis-cluster.js';
import { type FaultProxy, isScript, startFaultProxy } from './fault-proxy.js';
import { CLIENT_OPTIONS, deleteKeys, runPrefix } from './helpers.js';

const NOW = Date.UTC(2026, 0, 1);

const ok = gateBackend(
  'redis-server and redis-cli (to start a private cluster)',
  await redisBinariesAvailable(),
  ['redis cluster: a resent write is applied once'],
);

function rec(key: string, extra: Partial<RecordInput> = {}): RecordInput {
  return { collection: 'things', key, data: { n: 3 }, expiresAt: null, ...extra };
}

/** A ready Cluster client. */
async function ready(client: Cluster): Promise<Cluster> {
  client.on('error', () => {});
  await new Promise((resolve, reject) => {
    client.once('ready', resolve);
    setTimeout(() => reject(new Error('cluster client not ready in 20 s')), 20_000);
  });
  return client;
}

if (ok) {
  describe('redis cluster: a resent write is applied once', () => {
    let cluster: RedisCluster | undefined;
    let proxies: FaultProxy[] = [];
    let faulty: Cluster | undefined;
    let direct: Cluster | undefined;
    const prefix = runPrefix('resend-cluster');

    beforeAll(async () => {
      cluster = await startRedisCluster({ masters: 3 });
      proxies = await Promise.all(cluster.nodes.map((n) => startFaultProxy(n)));
      const natMap: Record<string, { host: string; port: number }> = {};
      cluster.nodes.forEach((n, i) => {
        natMap[`${n.host}:${n.port}`] = {
          host: '127.0.0.1',
          port: (proxies[i] as FaultProxy).port,
        };
      });
      // At ioredis defaults: offline queue, retries, resends after a reconnect.
      faulty = await ready(
        new Cluster(
          proxies.map((p) => ({ host: '127.0.0.1', port: p.port })),
          { natMap },
        ),
      );
      direct = await ready(
        new Cluster(cluster.nodes.slice(), {
          enableOfflineQueue: false,
          redisOptions: CLIENT_OPTIONS,
        }),
      );
    }, 120_000);

    afterAll(async () => {
      if (direct !== undefined) await deleteKeys(direct, prefix);
      faulty?.disconnect();
      direct?.disconnect();
      await Promise.all(proxies.map((p) => p.close()));
      await cluster?.stop();
    }, 60_000);

    const need = <T>(v: T | undefined): T => {
      if (v === undefined) throw new Error('the cluster did not start');
      return v;
    };

    let stores = 0;
    /** A store on the faulty client, with a partition space of its own. */
    const store = async (): Promise<{ s: RedisStore; part: (k: string) => string }> => {
      const s = createRedisStore({ client: need(faulty), prefix });
      await s.migrate();
      const run = stores++;
      return { s, part: (k) => `${run}-${k}` };
    };

    /**
     * Swallow the answer of the next script call holding `marker`, on
     * whichever master gets it (on two masters when two such calls run in
     * parallel, as the entries of a write in two hash tags do).
     */
    const cutOnce = async <T>(marker: string, write: () => Promise<T>): Promise<T> => {
      const match = (chunk: string) => isScript(chunk) && chunk.includes(marker);
      const before = proxies.map((p) => p.cuts);
      const cut = Promise.race(proxies.map((p) => p.cutAfter(match)));
      const result = await write();
      await cut;
      for (const p of proxies) p.disarm();
      // Every connection that was cut sent its script again: this test really resends.
      const cutters = proxies.filter((p, i) => p.cuts > (before[i] as number));
      expect(cutters.length).toBeGreaterThanOrEqual(1);
      for (const p of cutters) expect(p.resent).toBeGreaterThanOrEqual(1);
      return result;
    };

    it('applies a decrement once and answers as its one application did', async () => {
      const { s, part } = await store();
      const ref = { collection: 'things', key: 'c', partition: part('c') };
      await s.put(rec('c', { partition: ref.partition }), { mode: 'insert', now: NOW });
      const r = await cutOnce(':r:things:c', () => s.update(ref, { inc: { n: -1 } }));
      expect(r.ok && r.record.data.n).toBe(2);
      expect(r.ok && r.record.version).toBe(2);
      expect((await s.get(ref))?.data.n).toBe(2);
    });

    it.each([
      ['the entries added before', '"pre"'],
      ['the record script', ':r:things:k'],
      ['the settling of entries', '"settle"'],
    ])(
      'applies an insert once and leaves no entry pending when %s is resent',
      async (_, marker) => {
        const { s, part } = await store();
        const partition = part('k');
        const r = await cutOnce(marker, () =>
          s.put(rec('k', { partition, index: { owner: partition } }), { mode: 'insert', now: NOW }),
        );
        expect(r.ok && r.record.version).toBe(1);
        const member = memberOf('k', partition);
        const settled = /^0\|\|[0-9a-z]+\|1$/;
        const c = need(direct);
        expect(await c.hget(s.keys.listH('things'), member)).toMatch(settled);
        expect(await c.hget(s.keys.indexH('things', 'owner', partition), member)).toMatch(settled);
        expect(
          (await s.findByIndex('things', 'owner', partition)).records.map((x) => x.key),
        ).toEqual(['k']);
        expect((await s.delete({ collection: 'things', key: 'k', partition })).ok).toBe(true);
        expect(await c.hget(s.keys.listH('things'), member)).toBeNull();
      },
    );

    it('applies a delete once: the caller gets the deleted record', async () => {
      const { s, part } = await store();
      const ref = { collection: 'things', key: 'd', partition: part('d') };
      await s.put(rec('d', { partition: ref.partition }), { mode: 'insert', now: NOW });
      const r = await cutOnce(':r:things:d', () => s.delete(ref));
      expect(r.ok && r.previous.data).toEqual({ n: 3 });
      expect(await s.get(ref)).toBeNull();
    });

    it('uses an action token once', async () => {
      const { s, part } = await store();
      const tokens = createActionTokens({ store: s, keyring: testKeyring() });
      const action = part('login');
      const { value } = await tokens.create({
        owner: 'u1',
        action,
        remainingUses: 3,
        ttlSeconds: 3600,
      });
      const used = await cutOnce(':r:', () =>
        tokens.use({ owner: 'u1', action, value, drainWhenValid: false }),
      );
      expect(used.remainingUses).toBe(2);
      expect((await tokens.peek({ owner: 'u1', action })).remainingUses).toBe(2);
    });
  });
}
