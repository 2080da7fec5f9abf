/**
 * At most once per write call, whatever the client: a store on an ioredis
 * client at its defaults (which resends unanswered commands after a
 * reconnect), behind a proxy that lets a write script run on the machine's
 * Redis and then cuts the connection before the answer comes back. The client
 * resends the script; the write must be applied once and the caller must get
 * the answer of that one application (or a typed StoreUnavailableError).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActionTokens } from '../../../src/action-tokens/index.js';
import { StoreUnavailableError } from '../../../src/core/errors.js';
import type { RecordInput } from '../../../src/stores/contract.js';
import { createRedisStore, type RedisStore } from '../../../src/stores/redis/index.js';
import { memberOf } from '../../../src/stores/redis/keys.js';
import { randomSuffix, testKeyring } from '../../../src/testing/index.js';
import { gateBackend, REDIS_URL, redisAvailable, redisHostPort } from '../../support/backends.js';
import { type FaultProxy, isScript, startFaultProxy } from './fault-proxy.js';
import { deleteKeys, keysOf, openClient, runPrefix } from './helpers.js';

const NOW = Date.UTC(2026, 0, 1);

const ok = gateBackend(`Redis at ${REDIS_URL}`, await redisAvailable(), [
  'redis store: a resent write is applied once',
]);

function rec(key: string, data: RecordInput['data'] = { n: 3 }): RecordInput {
  return { collection: 'things', key, partition: 'p', data, expiresAt: null };
}

const ref = (key: string) => ({ collection: 'things', key, partition: 'p' });

if (ok) {
  describe('redis store: a resent write is applied once', () => {
    let direct: Redis;
    let proxy: FaultProxy;
    const prefixes: string[] = [];
    const clients: Redis[] = [];

    beforeAll(async () => {
      direct = await openClient(REDIS_URL);
      proxy = await startFaultProxy(redisHostPort());
    });

    afterAll(async () => {
      for (const c of clients) c.disconnect();
      for (const p of prefixes) await deleteKeys(direct, p);
      await proxy.close();
      await direct.quit();
    });

    /** A store on an ioredis client at its defaults, connected through the proxy. */
    const store = async (
      options: { maxWriteDelayMs?: number; compileScripts?: boolean; singleNode?: boolean } = {},
    ): Promise<RedisStore> => {
      const client = new Redis(proxy.url);
      client.on('error', () => {});
      clients.push(client);
      const prefix = runPrefix('resend');
      const s = createRedisStore({ client, prefix, ...options });
      prefixes.push(s.keys.prefix);
      await s.migrate();
      return s;
    };

    /** The raw value of field `n` of a record. */
    const n = async (s: RedisStore, key: string) =>
      direct.hget(s.keys.record('things', 'p', key), 'n');

    /** Run `write` with its script's answer swallowed once, and check that the client resent it. */
    const cutOnce = async <T>(marker: string, write: () => Promise<T>): Promise<T> => {
      const match = (chunk: string) => isScript(chunk) && chunk.includes(marker);
      const cut = proxy.cutAfter(match);
      const result = await write();
      await cut;
      // The client sent the script again after the cut: this test really resends.
      expect(proxy.resent).toBeGreaterThanOrEqual(1);
      return result;
    };

    it.each([
      ['compiled', true],
      ['interpreted', false],
    ])(
      'applies a decrement once and answers as its one application did (%s script)',
      async (_, compileScripts) => {
        const s = await store({ compileScripts });
        await s.put(rec('c'), { mode: 'insert', now: NOW });
        const r = await cutOnce(':r:things:c', () =>
          s.update(
            ref('c'),
            { inc: { n: -1 } },
            { where: { fields: [{ field: 'n', op: 'gt', value: 0 }] } },
          ),
        );
        expect(r).toEqual({
          ok: true,
          created: false,
          record: { ...rec('c', { n: 2 }), index: {}, version: 2 },
        });
        expect(await n(s, 'c')).toBe('2');
      },
    );

    it('applies an insert once: the caller gets its record, not "already live"', async () => {
      const s = await store();
      const r = await cutOnce(':r:things:i', () =>
        s.put(rec('i', { n: 1 }), { mode: 'insert', now: NOW }),
      );
      expect(r).toEqual({ ok: true, record: { ...rec('i', { n: 1 }), index: {}, version: 1 } });
      expect((await s.list('things')).records.map((x) => x.key)).toEqual(['i']);
    });

    it('applies a delete once: the caller gets the deleted record, not "missing"', async () => {
      const s = await store();
      await s.put(rec('d'), { mode: 'insert', now: NOW });
      const r = await cutOnce(':r:things:d', () => s.delete(ref('d')));
      expect(r).toEqual({ ok: true, previous: { ...rec('d'), index: {}, version: 1 } });
      expect(await s.get(ref('d'))).toBeNull();
    });

    it('applies a transaction over several records once', async () => {
      const s = await store();
      await s.put(rec('t1'), { mode: 'insert', now: NOW });
      const r = await cutOnce(':r:things:t2', () =>
        s.transact(
          [
            { type: 'update', ref: ref('t1'), mutation: { inc: { n: -1 } } },
            { type: 'put', record: rec('t2', { n: 10 }), mode: 'insert' },
            { type: 'check', ref: ref('t3'), absent: true },
          ],
          NOW,
        ),
      );
      expect(r).toEqual({
        ok: true,
        records: [
          { ...rec('t1', { n: 2 }), index: {}, version: 2 },
          { ...rec('t2', { n: 10 }), index: {}, version: 1 },
          null,
        ],
      });
      expect(await n(s, 't1')).toBe('2');
      expect(await n(s, 't2')).toBe('10');
    });

    it('uses an action token once', async () => {
      const s = await store();
      const tokens = createActionTokens({ store: s, keyring: testKeyring() });
      const { value } = await tokens.create({
        owner: 'u1',
        action: 'login',
        remainingUses: 3,
        ttlSeconds: 3600,
      });
      const used = await cutOnce('login', () =>
        tokens.use({ owner: 'u1', action: 'login', value, drainWhenValid: false }),
      );
      expect(used.remainingUses).toBe(2);
      expect((await tokens.peek({ owner: 'u1', action: 'login' })).remainingUses).toBe(2);
    });

    it('dedupes the EVAL sent after NOSCRIPT like the EVALSHA', async () => {
      const s = await store();
      // A field name of its own: a shape no process has compiled, so the
      // server answers NOSCRIPT first and the store sends EVAL.
      const field = `n_${randomSuffix(4)}`;
      await s.put(rec('e', { [field]: 5 }), { mode: 'insert', now: NOW });
      const isEval = (chunk: string) => /\r\neval\r\n/i.test(chunk) && chunk.includes(field);
      const cut = proxy.cutAfter(isEval);
      const r = await s.update(ref('e'), { inc: { [field]: -1 } });
      await cut;
      expect(proxy.resent).toBe(1);
      expect(r.ok && r.record.data[field]).toBe(4);
      expect(await direct.hget(s.keys.record('things', 'p', 'e'), field)).toBe('4');
    });

    it('answers a resend as the first application did after another client wrote in between', async () => {
      const s = await store();
      await s.put(rec('r'), { mode: 'insert', now: NOW });
      const other = createRedisStore({ client: direct, prefix: prefixes.at(-1) as string });
      const match = (chunk: string) => isScript(chunk) && chunk.includes(':r:things:r');
      const cut = proxy.cutAfter(match);
      proxy.hold();
      const pending = s.update(ref('r'), { inc: { n: -1 } });
      await cut;
      // While the first client is cut off, a second one decrements too.
      const second = await other.update(ref('r'), { inc: { n: -1 } });
      expect(second.ok && second.record.data.n).toBe(1);
      proxy.release();
      const first = await pending;
      expect(proxy.resent).toBe(1);
      expect(first.ok && first.record).toEqual({ ...rec('r', { n: 2 }), index: {}, version: 2 });
      expect(await n(s, 'r')).toBe('1');
    });

    // The Cluster protocol, on this server: entries are added by one script
    // call per hash tag before the record script and settled after it; each
    // of the three may be delivered twice.
    it.each([
      ['the entries added before', '"pre"'],
      ['the record script', ':r:things:k'],
      ['the settling of entries', '"settle"'],
    ])(
      'applies a write once and leaves no entry pending when %s is resent (Cluster protocol)',
      async (_, marker) => {
        const s = await store({ singleNode: false });
        const r = await cutOnce(marker, () =>
          s.put(
            { ...rec('k'), partition: 'k', index: { owner: 'a' } },
            { mode: 'insert', now: NOW },
          ),
        );
        expect(r.ok && r.record.version).toBe(1);
        const member = memberOf('k', 'k');
        // No writer is left pending on either entry, and both name the record.
        const settled = /^0\|\|[0-9a-z]+\|1$/;
        expect(await direct.hget(s.keys.listH('things'), member)).toMatch(settled);
        expect(await direct.hget(s.keys.indexH('things', 'owner', 'a'), member)).toMatch(settled);
        expect((await s.findByIndex('things', 'owner', 'a')).records.map((x) => x.key)).toEqual([
          'k',
        ]);
        // And the entries go with the record.
        expect((await s.delete({ collection: 'things', key: 'k' })).ok).toBe(true);
        expect(await direct.hget(s.keys.listH('things'), member)).toBeNull();
        expect(await direct.hget(s.keys.indexH('things', 'owner', 'a'), member)).toBeNull();
      },
    );

    it('refuses a resend that reaches Redis after its deadline, typed, never applying it twice', async () => {
      const s = await store({ maxWriteDelayMs: 500 });
      await s.put(rec('l'), { mode: 'insert', now: NOW });
      const answers = async () =>
        (await keysOf(direct, s.keys.prefix)).filter((k) => k.includes('}:w:'));
      const before = await answers();
      const match = (chunk: string) => isScript(chunk) && chunk.includes(':r:things:l');
      const cut = proxy.cutAfter(match);
      proxy.hold();
      const pending = s.update(ref('l'), { inc: { n: -1 } });
      const outcome = pending.then(
        () => 'resolved',
        (err: unknown) => err,
      );
      await cut;
      // The first delivery was applied. Forget its answer, as if the resend
      // came after the store stopped remembering it, and let the deadline pass.
      const remembered = (await answers()).filter((k) => !before.includes(k));
      expect(remembered).toHaveLength(1);
      await direct.del(...remembered);
      await delay(600);
      proxy.release();
      const err = await outcome;
      expect(proxy.resent).toBe(1);
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect(String((err as Error).message)).toMatch(/not applied: it reached Redis \d+ ms after/);
      expect(await n(s, 'l')).toBe('2');
    });
  });
}
