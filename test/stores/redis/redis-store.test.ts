import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { InvalidInputError, StoreError, StoreUnavailableError } from '../../../src/core/errors.js';
import type { Json, JsonObject, RecordInput } from '../../../src/stores/contract.js';
import { toStoreError } from '../../../src/stores/redis/errors.js';
import { createRedisStore, type RedisStore } from '../../../src/stores/redis/index.js';
import { escapePart, keyLayout, memberOf } from '../../../src/stores/redis/keys.js';
import { parseRedisUrl } from '../../../src/stores/redis/options.js';
import { createAnswerRelease } from '../../../src/stores/redis/write-once.js';
import { gateBackend, REDIS_URL, redisAvailable } from '../../support/backends.js';
import { freePort } from '../../support/redis-cluster.js';
import { deleteKeys, keysOf, openClient, runPrefix } from './helpers.js';

const NOW = Date.UTC(2026, 0, 1);

function rec(key: string, extra: Partial<RecordInput> = {}): RecordInput {
  return { collection: 'things', key, data: { n: 1 }, expiresAt: null, ...extra };
}

describe('key layout (no server needed)', () => {
  it('puts a partition of every collection under one hash tag, with the prefix inside it', () => {
    const k = keyLayout('app');
    expect(k.record('pats', 'p1', 'k1')).toBe('{app:p1}:r:pats:k1');
    expect(k.record('sessions', 'p1', 'k2')).toBe('{app:p1}:r:sessions:k2');
    expect(k.listZ('pats')).toBe('{app:pats}:lz');
    expect(k.expiry('pats')).toBe('{app:pats}:x');
    expect(k.indexZ('pats', 'owner', 'u:1')).toBe('{app:pats:i:owner:u%3A1}:iz');
    expect(k.channel('pat:revoked')).toBe('app:ev:pat:revoked');
  });

  it('escapes braces, colons and percent signs so a value can never end a tag early', () => {
    expect(escapePart('a}b{c:d%e')).toBe('a%7Db%7Bc%3Ad%25e');
    const k = keyLayout('{ms-token!5.0.1}');
    expect(k.record('c', 'x}y', 'k')).toBe('{%7Bms-token!5.0.1%7D:x%7Dy}:r:c:k');
    // Two addresses that would collide without escaping stay apart.
    expect(k.record('c', 'a:b', 'k')).not.toBe(k.record('c', 'a', 'b:k'));
  });

  it('separates key and partition in entry members with a NUL that keys cannot contain', () => {
    expect(memberOf('k', 'p')).toBe('k\u0000p');
  });

  it('parses URLs and cluster seed lists', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6380/2')).toEqual([
      { host: '127.0.0.1', port: 6380, tls: false, db: 2 },
    ]);
    expect(parseRedisUrl('rediss://u:p%40ss@a:7000,b:7001,redis://c')).toEqual([
      { host: 'a', port: 7000, tls: true, username: 'u', password: 'p@ss' },
      { host: 'b', port: 7001, tls: true, username: 'u', password: 'p@ss' },
      { host: 'c', port: 6379, tls: false, username: 'u', password: 'p@ss' },
    ]);
    expect(() => parseRedisUrl('http://x')).toThrow(TypeError);
    expect(() => parseRedisUrl('')).toThrow(TypeError);
  });

  it('rejects missing, doubled and malformed options with TypeError or RangeError', () => {
    expect(() => createRedisStore({} as never)).toThrow(TypeError);
    expect(() => createRedisStore({ url: 'redis://x', client: {} } as never)).toThrow(TypeError);
    expect(() => createRedisStore({ client: {} as never })).toThrow(TypeError);
    expect(() => createRedisStore({ url: 'redis://x', prefix: 'a b' })).toThrow(TypeError);
    expect(() => createRedisStore({ url: 'redis://x', gcGraceMs: -1 })).toThrow(RangeError);
  });
});

describe('error mapping (no server needed)', () => {
  const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });

  it('maps script validation errors to InvalidInputError, without the script suffix', () => {
    const err = toStoreError(
      reply(
        `TESSERA_INVALID s cannot inc non-number field s script: ${'a'.repeat(40)}, on @user_script:152.`,
      ),
      'update',
    );
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.message).toBe('cannot inc non-number field s');
    expect((err as InvalidInputError).field).toBe('s');
  });

  it('maps loading, cluster-down and connection failures to StoreUnavailableError', () => {
    for (const e of [
      reply('LOADING Redis is loading the dataset in memory'),
      reply('CLUSTERDOWN The cluster is down'),
      reply('TRYAGAIN Multiple keys request during rehashing of slot'),
      reply('READONLY You cannot write against a read only replica.'),
      reply('MASTERDOWN Link with MASTER is down'),
      new Error('Connection is closed.'),
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      new Error('Command timed out'),
      Object.assign(new Error('x'), { name: 'MaxRetriesPerRequestError' }),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
    ]) {
      const mapped = toStoreError(e, 'get');
      expect(mapped, e.message).toBeInstanceOf(StoreUnavailableError);
      expect(mapped.cause).toBe(e);
    }
  });

  it('maps other replies and unknown failures to StoreError with the cause', () => {
    const e = reply('WRONGTYPE Operation against a key holding the wrong kind of value');
    const mapped = toStoreError(e, 'get');
    expect(mapped).toBeInstanceOf(StoreError);
    expect(mapped).not.toBeInstanceOf(StoreUnavailableError);
    expect(mapped.cause).toBe(e);
    expect(toStoreError(new TypeError('bug'), 'get')).toBeInstanceOf(StoreError);
    const invalid = new InvalidInputError('bad');
    expect(toStoreError(invalid, 'put')).toBe(invalid);
  });
});

describe('a server that is not there', () => {
  it('fails fast with StoreUnavailableError, and again on the next call', async () => {
    const port = await freePort();
    const store = createRedisStore({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 2000 });
    const t0 = Date.now();
    await expect(store.get({ collection: 'c', key: 'k' })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    const t1 = Date.now();
    await expect(store.put(rec('k'), { mode: 'insert', now: NOW })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    expect(t1 - t0).toBeLessThan(2500);
    expect(Date.now() - t1).toBeLessThan(500);
    await store.close();
  });
});

const available = await redisAvailable();

if (gateBackend(`Redis at ${REDIS_URL}`, available, ['redis store: backend-specific cases'])) {
  const client = await openClient(REDIS_URL);
  const prefixes: string[] = [];
  const fresh = async (
    options: { gcGraceMs?: number; onError?: (e: unknown) => void; singleNode?: boolean } = {},
  ) => {
    const prefix = runPrefix('unit');
    prefixes.push(prefix);
    const store = createRedisStore({ client, prefix, ...options });
    await store.migrate();
    return store;
  };
  afterAll(async () => {
    for (const p of prefixes) await deleteKeys(client, p);
    await client.quit();
  });
  /** Every key of a prefix but the kept answers of recent writes. */
  const records = async (P: string) => (await keysOf(client, P)).filter((k) => !k.includes('}:w:'));

  describe('redis store: storage', () => {
    it('writes one hash per record, entries per collection and index value, the answer of a write until it arrived, and nothing else', async () => {
      const s = await fresh();
      const P = s.keys.prefix;
      const answers = async () => (await keysOf(client, P)).filter((k) => k.includes('}:w:'));
      const turn = () => new Promise((resolve) => setImmediate(resolve));
      // Held back here: the answer the script keeps for a second delivery, in its partition's tag, 20 s.
      const unlinked: string[][] = [];
      const hold = vi.spyOn(client, 'unlink').mockImplementation((async (...k: string[]) => {
        unlinked.push(k);
        return 0;
      }) as never);
      try {
        await s.put(rec('k1', { partition: 'p', index: { owner: 'o1' }, expiresAt: NOW + 1 }), {
          mode: 'insert',
          now: NOW,
        });
        await turn();
      } finally {
        hold.mockRestore();
      }
      const [answer] = await answers();
      expect(answer).toMatch(new RegExp(`^\\{${P}:p\\}:w:[0-9a-z]+$`));
      const ttl = await client.pttl(answer as string);
      expect(ttl).toBeGreaterThan(15_000);
      expect(ttl).toBeLessThanOrEqual(20_000);
      expect(await client.get(answer as string)).toMatch(/^ok\0/);
      // Once the answer arrived the store released that copy (one UNLINK for the turn).
      expect(unlinked).toEqual([[answer]]);
      await client.unlink(answer as string);
      expect(await records(P)).toEqual(
        [
          `{${P}:p}:r:things:k1`,
          `{${P}:things:i:owner:o1}:ih`,
          `{${P}:things:i:owner:o1}:iz`,
          `{${P}:things}:lh`,
          `{${P}:things}:lz`,
          `{${P}:things}:x`,
          `{${P}}:cols`,
          `{${P}}:meta`,
        ].sort(),
      );
      // Unheld: an erasing write leaves neither the record nor a copy of it in its answer.
      await s.delete({ collection: 'things', key: 'k1', partition: 'p' });
      await turn();
      await turn();
      expect(await records(P)).toEqual([`{${P}}:cols`, `{${P}}:meta`]);
      expect(await answers()).toEqual([]);
    });

    it('releases the answer of every write (Cluster protocol), each UNLINK within one hash tag', async () => {
      const s = await fresh({ singleNode: false });
      const sent: string[][] = [];
      const real = client.unlink.bind(client);
      const spy = vi.spyOn(client, 'unlink').mockImplementation((async (...k: string[]) => {
        sent.push(k);
        return real(...k);
      }) as never);
      try {
        await Promise.all(
          ['a', 'b', 'c'].map((k) =>
            s.put(rec(k, { partition: k === 'c' ? 'q' : 'p' }), { mode: 'insert', now: NOW }),
          ),
        );
        await new Promise((resolve) => setImmediate(resolve));
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        spy.mockRestore();
      }
      const P = s.keys.prefix;
      expect(sent.flat()).toHaveLength(3);
      for (const g of sent)
        expect(new Set(g.map((k) => k.slice(0, k.indexOf('}') + 1))).size).toBe(1);
      expect((await keysOf(client, P)).filter((k) => k.includes('}:w:'))).toEqual([]);
    });

    it('releases the answers of one turn in one UNLINK per hash tag, or one in all on a single server', async () => {
      for (const one of [false, true]) {
        const tag = `{rel-${one}-${Date.now()}`;
        const names = [`${tag}:p}:w:1`, `${tag}:p}:w:2`, `${tag}:q}:w:3`];
        for (const k of names) await client.set(k, 'ok', 'PX', 20_000);
        const sent: string[][] = [];
        const real = client.unlink.bind(client);
        const spy = vi.spyOn(client, 'unlink').mockImplementation((async (...k: string[]) => {
          sent.push(k);
          return real(...k);
        }) as never);
        try {
          const release = createAnswerRelease(
            client,
            () => one,
            () => {},
          );
          for (const k of names) release.release(k);
          expect(sent).toEqual([]);
          await release.flush();
        } finally {
          spy.mockRestore();
        }
        expect(sent).toEqual(one ? [names] : [names.slice(0, 2), names.slice(2)]);
        expect(await client.exists(...names)).toBe(0);
      }
    });

    it('sets PXAT after expiresAt plus the grace, never before the write plus the grace', async () => {
      const s = await fresh({ gcGraceMs: 5000 });
      const key = (k: string) => s.keys.record('things', k, k);
      const future = Date.now() + 3_600_000;
      await s.put(rec('later', { expiresAt: future }), { mode: 'insert', now: NOW });
      expect(await client.call('PEXPIRETIME', key('later'))).toBe(future + 5000);
      // A caller's clock far behind Redis's: the record still outlives the write by the grace.
      const before = Date.now();
      await s.put(rec('past', { expiresAt: NOW }), { mode: 'insert', now: NOW });
      const at = Number(await client.call('PEXPIRETIME', key('past')));
      expect(at).toBeGreaterThanOrEqual(before + 5000 - 50);
      expect(at).toBeLessThanOrEqual(Date.now() + 5000 + 50);
      // Removing the expiry removes the TTL; a record without expiry has none.
      await s.update({ collection: 'things', key: 'later' }, { expiresAt: null });
      expect(await client.pttl(key('later'))).toBe(-1);
      await s.put(rec('forever'), { mode: 'insert', now: NOW });
      expect(await client.pttl(key('forever'))).toBe(-1);
      // An update that keeps the expiry keeps the TTL.
      await s.update({ collection: 'things', key: 'past' }, { inc: { n: 1 } });
      expect(Number(await client.call('PEXPIRETIME', key('past')))).toBe(at);
    });

    it('keeps numbers, empty arrays and nested values exact through Lua mutations', async () => {
      const s = await fresh();
      const ref = { collection: 'things', key: 'k' };
      const mixed: Json[] = [1.5, 9007199254740991, [], {}, 'x', null, true, { a: [] }];
      const data: JsonObject = {
        big: Number.MAX_SAFE_INTEGER,
        neg: -Number.MAX_SAFE_INTEGER,
        tiny: 5e-324,
        huge: 1.7976931348623157e308,
        frac: 0.1,
        empty: [],
        obj: {},
        mixed,
        text: 'é "quoted" \\ / \u2028 😀',
      };
      await s.put({ ...ref, data, expiresAt: null }, { mode: 'insert', now: NOW });
      const r = await s.update(ref, {
        inc: { frac: 0.2, big: -1, count: 3 },
        add: { mixed: ['x', 'y'], empty: ['z'] },
        remove: { obj2: ['q'] },
        set: { fresh: { deep: [[], {}] } },
      });
      const expected = {
        ...data,
        frac: 0.1 + 0.2,
        big: Number.MAX_SAFE_INTEGER - 1,
        count: 3,
        mixed: [...mixed, 'y'],
        empty: ['z'],
        fresh: { deep: [[], {}] },
      };
      expect(r.ok && r.record.data).toEqual(expected);
      expect((await s.get(ref))?.data).toEqual(expected);
      await s.update(ref, { remove: { mixed: ['x', 'nope'] } });
      expect((await s.get(ref))?.data.mixed).toEqual([
        1.5,
        9007199254740991,
        [],
        {},
        null,
        true,
        { a: [] },
        'y',
      ]);
      const found = await s.list('things', {
        fields: [{ field: 'text', op: 'eq', value: data.text as string }],
      });
      expect(found.records.map((x) => x.key)).toEqual(['k']);
      const cond = await s.update(
        ref,
        { inc: { n: 1 } },
        { where: { fields: [{ field: 'big', op: 'eq', value: Number.MAX_SAFE_INTEGER - 1 }] } },
      );
      expect(cond.ok).toBe(true);
    });

    it('lets one transaction span collections of one partition (one hash tag)', async () => {
      const s = await fresh();
      const r = await s.transact(
        [
          {
            type: 'put',
            record: {
              collection: 'sessions',
              key: 's1',
              partition: 'u1',
              data: {},
              expiresAt: null,
            },
            mode: 'insert',
          },
          {
            type: 'put',
            record: { collection: 'tokens', key: 't1', partition: 'u1', data: {}, expiresAt: null },
            mode: 'insert',
          },
        ],
        NOW,
      );
      expect(r.ok).toBe(true);
      expect((await s.list('tokens')).records.map((x) => x.key)).toEqual(['t1']);
    });

    it('treats the partition as part of the address', async () => {
      const s = await fresh();
      await s.put(rec('k', { partition: 'p1' }), { mode: 'insert', now: NOW });
      expect(await s.get({ collection: 'things', key: 'k', partition: 'p2' })).toBeNull();
      expect((await s.get({ collection: 'things', key: 'k', partition: 'p1' }))?.partition).toBe(
        'p1',
      );
    });
  });

  describe('redis store: index and list entries', () => {
    async function entryState(s: RedisStore, name: string, value: string, member: string) {
      return client.hget(s.keys.indexH('things', name, value), member);
    }

    it('never returns a stale entry, and removes it when no writer is pending on it', async () => {
      const s = await fresh();
      await s.put(rec('k', { index: { owner: 'b' } }), { mode: 'insert', now: NOW });
      const m = memberOf('k', 'k');
      // A stale entry for value a, as a crashed writer would leave it (settled, then abandoned).
      await client.zadd(s.keys.indexZ('things', 'owner', 'a'), 0, m);
      await client.hset(s.keys.indexH('things', 'owner', 'a'), m, '0|n|x|1');
      expect((await s.findByIndex('things', 'owner', 'a')).records).toEqual([]);
      expect(await entryState(s, 'owner', 'a', m)).toBeNull();
      expect(await client.zcard(s.keys.indexZ('things', 'owner', 'a'))).toBe(0);
    });

    it('keeps an entry a writer is still pending on', async () => {
      const s = await fresh();
      const m = memberOf('new', 'new');
      await client.zadd(s.keys.indexZ('things', 'owner', 'a'), 0, m);
      await client.hset(s.keys.indexH('things', 'owner', 'a'), m, '1|n||0');
      expect((await s.findByIndex('things', 'owner', 'a')).records).toEqual([]);
      expect(await entryState(s, 'owner', 'a', m)).toBe('1|n||0');
    });

    it('loses no entry when the follow-up after a committed write fails (Cluster protocol)', async () => {
      const errors: unknown[] = [];
      const s = await fresh({ onError: (e) => errors.push(e), singleNode: false });
      await s.put(rec('k', { index: { owner: 'a' } }), { mode: 'insert', now: NOW });
      const real = client.evalsha.bind(client);
      let calls = 0;
      const spy = vi.spyOn(client, 'evalsha').mockImplementation(((...args: unknown[]) => {
        calls++;
        // Call 1: pre-add of value b; call 2: the record script; then the follow-ups
        // (settle b, remove a: two hash tags, two calls) fail as if the connection dropped.
        if (calls >= 3) return Promise.reject(new Error('Connection is closed.'));
        return (real as (...a: unknown[]) => Promise<unknown>)(...args);
      }) as never);
      try {
        const r = await s.update({ collection: 'things', key: 'k' }, { index: { owner: 'b' } });
        expect(r.ok).toBe(true);
      } finally {
        spy.mockRestore();
      }
      expect(calls).toBe(4);
      expect(errors).toHaveLength(1);
      expect((await s.findByIndex('things', 'owner', 'b')).records.map((x) => x.key)).toEqual([
        'k',
      ]);
      expect((await s.findByIndex('things', 'owner', 'a')).records).toEqual([]);
    });

    it('fails the write and writes nothing when adding its entries fails (Cluster protocol)', async () => {
      const s = await fresh({ singleNode: false });
      const spy = vi
        .spyOn(client, 'evalsha')
        .mockImplementationOnce((() =>
          Promise.reject(new Error('Connection is closed.'))) as never);
      try {
        await expect(
          s.put(rec('k', { index: { owner: 'a' } }), { mode: 'insert', now: NOW }),
        ).rejects.toBeInstanceOf(StoreUnavailableError);
      } finally {
        spy.mockRestore();
      }
      expect(await s.get({ collection: 'things', key: 'k' })).toBeNull();
    });

    it('settles entries of a write whose condition failed (Cluster protocol)', async () => {
      const s = await fresh({ singleNode: false });
      await s.put(rec('k', { index: { owner: 'a' } }), { mode: 'insert', now: NOW });
      const r = await s.put(rec('k', { index: { owner: 'b' } }), { mode: 'insert', now: NOW });
      expect(r.ok).toBe(false);
      expect(await client.zcard(s.keys.indexZ('things', 'owner', 'b'))).toBe(0);
      expect(await entryState(s, 'owner', 'a', memberOf('k', 'k'))).toMatch(/^0\|/);
    });

    it('writes a record with its list entry, index entries and expiry hint in one script on a single server', async () => {
      const s = await fresh();
      const calls: string[] = [];
      const real = client.sendCommand.bind(client);
      const spy = vi.spyOn(client, 'sendCommand').mockImplementation(((cmd: { name: string }) => {
        calls.push(cmd.name);
        return real(cmd as never);
      }) as never);
      try {
        const r = await s.put(rec('k', { index: { owner: 'a' }, expiresAt: NOW + 5 }), {
          mode: 'insert',
          now: NOW,
        });
        expect(r.ok).toBe(true);
        // Before its first write a store reads Redis's clock (for write deadlines).
        expect(calls).toEqual(['time', 'evalsha']);
        calls.length = 0;
        await new Promise((resolve) => setImmediate(resolve));
        // Then the copy of its answer is released, once the answer arrived.
        expect(calls).toEqual(['unlink']);
        calls.length = 0;
        await s.put(rec('k2'), { mode: 'insert', now: NOW });
        expect(calls).toEqual(['evalsha']);
      } finally {
        spy.mockRestore();
      }
      const m = memberOf('k', 'k');
      expect(await client.zscore(s.keys.listZ('things'), m)).toBe('0');
      expect(await client.hget(s.keys.listH('things'), m)).toMatch(/^0\|\|[0-9a-z]+\|1$/);
      expect(await entryState(s, 'owner', 'a', m)).toMatch(/^0\|\|[0-9a-z]+\|1$/);
      expect(await client.zscore(s.keys.expiry('things'), m)).toBe(String(NOW + 5));
      expect(await client.sismember(s.keys.collections(), 'things')).toBe(1);
      expect((await s.findByIndex('things', 'owner', 'a')).records.map((x) => x.key)).toEqual([
        'k',
      ]);
    });

    it('moves index entries with the record on a single server, and removes the lost value after the write', async () => {
      const errors: unknown[] = [];
      const s = await fresh({ onError: (e) => errors.push(e) });
      await s.put(rec('k', { index: { owner: 'a' } }), { mode: 'insert', now: NOW });
      const real = client.evalsha.bind(client);
      let calls = 0;
      const spy = vi.spyOn(client, 'evalsha').mockImplementation(((...args: unknown[]) => {
        calls++;
        return (real as (...a: unknown[]) => Promise<unknown>)(...args);
      }) as never);
      try {
        const r = await s.update({ collection: 'things', key: 'k' }, { index: { owner: 'b' } });
        expect(r.ok && r.record.index).toEqual({ owner: 'b' });
      } finally {
        spy.mockRestore();
      }
      // The record script (which adds value b), then the removal of value a.
      expect(calls).toBe(2);
      expect(errors).toEqual([]);
      expect(await client.zcard(s.keys.indexZ('things', 'owner', 'a'))).toBe(0);
      expect((await s.findByIndex('things', 'owner', 'b')).records.map((x) => x.key)).toEqual([
        'k',
      ]);
      await s.delete({ collection: 'things', key: 'k' });
      expect(await records(s.keys.prefix)).toEqual(
        [`{${s.keys.prefix}}:cols`, `{${s.keys.prefix}}:meta`].sort(),
      );
    });

    it('loses no entry on a single server when removing a lost value fails', async () => {
      const errors: unknown[] = [];
      const s = await fresh({ onError: (e) => errors.push(e) });
      await s.put(rec('k', { index: { owner: 'a' } }), { mode: 'insert', now: NOW });
      const real = client.evalsha.bind(client);
      let calls = 0;
      const spy = vi.spyOn(client, 'evalsha').mockImplementation(((...args: unknown[]) => {
        calls++;
        if (calls >= 2) return Promise.reject(new Error('Connection is closed.'));
        return (real as (...a: unknown[]) => Promise<unknown>)(...args);
      }) as never);
      try {
        const r = await s.update({ collection: 'things', key: 'k' }, { index: { owner: 'b' } });
        expect(r.ok).toBe(true);
      } finally {
        spy.mockRestore();
      }
      expect(errors).toHaveLength(1);
      expect((await s.findByIndex('things', 'owner', 'b')).records.map((x) => x.key)).toEqual([
        'k',
      ]);
      // The stale entry of value a is never returned, and the read repairs it.
      expect((await s.findByIndex('things', 'owner', 'a')).records).toEqual([]);
      expect(await client.zcard(s.keys.indexZ('things', 'owner', 'a'))).toBe(0);
    });

    it('pages past stale entries in member order', async () => {
      const s = await fresh();
      for (let i = 0; i < 30; i++) {
        await s.put(rec(`k${String(i).padStart(2, '0')}`, { index: { owner: 'o' } }), {
          mode: 'insert',
          now: NOW,
        });
      }
      // Twenty stale entries interleaved with the live ones.
      for (let i = 0; i < 20; i++) {
        const m = memberOf(`k${String(i).padStart(2, '0')}x`, 'gone');
        await client.zadd(s.keys.indexZ('things', 'owner', 'o'), 0, m);
        await client.hset(s.keys.indexH('things', 'owner', 'o'), m, '0|n|dead|1');
      }
      const keys: string[] = [];
      let cursor: string | null = null;
      do {
        const p = await s.findByIndex('things', 'owner', 'o', { limit: 7, cursor });
        keys.push(...p.records.map((r) => r.key));
        cursor = p.cursor;
      } while (cursor !== null);
      expect(keys).toEqual(Array.from({ length: 30 }, (_, i) => `k${String(i).padStart(2, '0')}`));
      expect(await client.zcard(s.keys.indexZ('things', 'owner', 'o'))).toBe(30);
    });
  });

  describe('redis store: sweep', () => {
    it('drops the hint and list entry of a record Redis already collected', async () => {
      const s = await fresh();
      await s.put(rec('k', { expiresAt: NOW + 1 }), { mode: 'insert', now: NOW });
      await client.del(s.keys.record('things', 'k', 'k'));
      expect(await s.sweep(NOW + 10)).toBe(0);
      expect(await client.zcard(s.keys.expiry('things'))).toBe(0);
      expect(await client.zcard(s.keys.listZ('things'))).toBe(0);
    });

    it('re-scores a hint that is earlier than the record expiry, and keeps the record', async () => {
      const s = await fresh();
      await s.put(rec('k', { expiresAt: NOW + 1000 }), { mode: 'insert', now: NOW });
      await client.zadd(s.keys.expiry('things'), NOW, memberOf('k', 'k'));
      expect(await s.sweep(NOW + 10)).toBe(0);
      expect(await client.zscore(s.keys.expiry('things'), memberOf('k', 'k'))).toBe(
        String(NOW + 1000),
      );
      expect(await s.get({ collection: 'things', key: 'k' })).not.toBeNull();
    });

    it('runs in the background with startSweeper until stopped', async () => {
      const s = await fresh();
      await s.put(rec('k', { expiresAt: NOW }), { mode: 'insert', now: NOW });
      const stop = s.startSweeper({ intervalMs: 20, clock: { now: () => NOW + 1 } });
      for (let i = 0; i < 100 && (await s.get({ collection: 'things', key: 'k' })) !== null; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      stop();
      expect(await s.get({ collection: 'things', key: 'k' })).toBeNull();
    });
  });

  describe('redis store: connections and lifecycle', () => {
    it("never closes the caller's client, and fails closed after close()", async () => {
      const s = await fresh();
      await s.close();
      await s.close();
      expect(client.status).toBe('ready');
      await expect(s.get({ collection: 'things', key: 'k' })).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
      await expect(s.events.publish('x', 'y')).rejects.toBeInstanceOf(StoreUnavailableError);
    });

    it('closes a connection it opened from a URL', async () => {
      const prefix = runPrefix('url');
      prefixes.push(prefix);
      const store = createRedisStore({ url: REDIS_URL, prefix });
      await store.migrate();
      expect(store.client.status).toBe('ready');
      await store.close();
      expect(store.client.status).toBe('end');
    });

    it('reports a caller client that was disconnected as StoreUnavailableError', async () => {
      const own: Redis = await openClient(REDIS_URL);
      const s = createRedisStore({ client: own, prefix: runPrefix('gone') });
      own.disconnect();
      await expect(s.get({ collection: 'c', key: 'k' })).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
    });

    it('reports a key of another type as StoreError with the reply as cause', async () => {
      const s = await fresh();
      await client.set(s.keys.record('things', 'k', 'k'), 'not a hash');
      const err = await s.get({ collection: 'things', key: 'k' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).cause).toMatchObject({ name: 'ReplyError' });
      await expect(
        s.update({ collection: 'things', key: 'k' }, { inc: { n: 1 } }),
      ).rejects.toBeInstanceOf(StoreError);
    });

    it('reports a hash that is not a record of this store as StoreError', async () => {
      const s = await fresh();
      const ref = { collection: 'things', key: 'k' };
      await client.hset(s.keys.record('things', 'k', 'k'), 'n', '1');
      await expect(s.get(ref)).rejects.toThrow(/malformed record \(no version\)/);
      await client.hset(s.keys.record('things', 'k', 'k'), '#v', '1', '#n', 'x', 'n', '{oops');
      await expect(s.get(ref)).rejects.toThrow(/field n is not JSON/);
      await client.hset(s.keys.record('things', 'k', 'k'), 'n', '1', '#i:b', 'v2', '#i:a', 'v1');
      const r = await s.get(ref);
      expect(r?.index).toEqual({ a: 'v1', b: 'v2' });
      expect(Object.keys(r?.index ?? {})).toEqual(['a', 'b']);
    });

    it('refuses a prefix that holds another key layout', async () => {
      const s = await fresh();
      await client.hset(s.keys.meta(), 'layout', '99');
      await expect(s.migrate()).rejects.toBeInstanceOf(InvalidInputError);
    });

    it('falls back to EVAL when the server has not cached a script (NOSCRIPT)', async () => {
      const s = await fresh();
      await s.put(rec('k'), { mode: 'insert', now: NOW });
      const noscript = Object.assign(new Error('NOSCRIPT No matching script.'), {
        name: 'ReplyError',
      });
      const evalSpy = vi.spyOn(client, 'eval');
      const spy = vi
        .spyOn(client, 'evalsha')
        .mockImplementationOnce((() => Promise.reject(noscript)) as never);
      try {
        const r = await s.update({ collection: 'things', key: 'k' }, { inc: { n: 1 } });
        expect(r.ok && r.record.data.n).toBe(2);
        expect(evalSpy).toHaveBeenCalledTimes(1);
      } finally {
        spy.mockRestore();
        evalSpy.mockRestore();
      }
    });
  });
}
