import { describe, expect, it } from 'vitest';
import type { JsonObject, Mutation } from '../../../src/stores/contract.js';
import { createMemoryStore } from '../../../src/stores/memory/index.js';

const NOW = 1_000_000;

describe('memory store: stored state', () => {
  it('copies data it was given unfrozen, so later changes by the caller do not reach it', async () => {
    const store = createMemoryStore();
    const data: JsonObject = { n: 1, list: ['a'], nested: { x: 1 } };
    await store.put(
      { collection: 'c', key: 'k', data, expiresAt: null },
      { mode: 'insert', now: NOW },
    );
    data.n = 2;
    (data.list as string[]).push('b');
    (data.nested as JsonObject).x = 2;
    const r = await store.get({ collection: 'c', key: 'k' });
    expect(r?.data).toEqual({ n: 1, list: ['a'], nested: { x: 1 } });
  });

  it('copies data whose top is frozen but whose inside is not', async () => {
    const store = createMemoryStore();
    const nested: JsonObject = { x: 1 };
    const data = Object.freeze({ nested });
    await store.put(
      { collection: 'c', key: 'k', data, expiresAt: null },
      { mode: 'insert', now: NOW },
    );
    nested.x = 2;
    const r = await store.get({ collection: 'c', key: 'k' });
    expect(r?.data).toEqual({ nested: { x: 1 } });
    expect(r?.data).not.toBe(data);
  });

  it('keeps deeply frozen data as it is', async () => {
    const store = createMemoryStore();
    const data = Object.freeze({ a: 1, list: Object.freeze(['x']) }) as unknown as JsonObject;
    await store.put(
      { collection: 'c', key: 'k', data, expiresAt: null },
      { mode: 'insert', now: NOW },
    );
    const r = await store.get({ collection: 'c', key: 'k' });
    expect(r?.data).toBe(data);
  });

  it('returns records whose data cannot be changed, and whose wrapper changes nothing stored', async () => {
    const store = createMemoryStore();
    await store.put(
      {
        collection: 'c',
        key: 'k',
        data: { a: 1, o: { b: [1] } },
        expiresAt: NOW + 10,
        index: { i: 'v' },
      },
      { mode: 'insert', now: NOW },
    );
    const r = await store.get({ collection: 'c', key: 'k' });
    if (r === null) throw new Error('missing');
    expect(() => {
      (r.data as JsonObject).a = 2;
    }).toThrow(TypeError);
    expect(() => {
      ((r.data.o as JsonObject).b as number[]).push(2);
    }).toThrow(TypeError);
    expect(() => {
      (r.index as Record<string, string>).i = 'w';
    }).toThrow(TypeError);
    (r as { expiresAt: number | null }).expiresAt = null;
    (r as { version: number }).version = 99;
    expect(await store.get({ collection: 'c', key: 'k' })).toMatchObject({
      data: { a: 1, o: { b: [1] } },
      expiresAt: NOW + 10,
      version: 1,
      index: { i: 'v' },
    });
  });

  it('copies objects a mutation sets', async () => {
    const store = createMemoryStore();
    await store.put(
      { collection: 'c', key: 'k', data: {}, expiresAt: null },
      { mode: 'insert', now: NOW },
    );
    const value: JsonObject = { x: [1] };
    await store.update({ collection: 'c', key: 'k' }, { set: { value } });
    (value.x as number[]).push(2);
    expect((await store.get({ collection: 'c', key: 'k' }))?.data).toEqual({ value: { x: [1] } });
  });

  it('freezes what an update puts in (set objects, added and filtered arrays) and what it keeps', async () => {
    const store = createMemoryStore();
    const ref = { collection: 'c', key: 'k' };
    await store.put(
      { ...ref, data: { n: 0, kept: { deep: [1] }, tags: ['a', 'b'] }, expiresAt: null },
      { mode: 'insert', now: NOW },
    );
    const r = await store.update(ref, {
      set: { obj: { x: [1] } },
      inc: { n: 1 },
      add: { more: ['m'] },
      remove: { tags: ['a'] },
    });
    if (!r.ok) throw new Error('update refused');
    const stored = await store.get(ref);
    for (const d of [r.record.data, stored?.data as JsonObject]) {
      expect(Object.isFrozen(d)).toBe(true);
      expect(() => ((d.obj as JsonObject).x as number[]).push(2)).toThrow(TypeError);
      expect(() => (d.more as string[]).push('z')).toThrow(TypeError);
      expect(() => (d.tags as string[]).push('z')).toThrow(TypeError);
      expect(() => ((d.kept as JsonObject).deep as number[]).push(2)).toThrow(TypeError);
    }
    expect((await store.get(ref))?.data).toEqual({
      n: 1,
      kept: { deep: [1] },
      tags: ['b'],
      obj: { x: [1] },
      more: ['m'],
    });
  });

  it('keeps index lookups right across updates that do and do not change index values, deletes and reused slots', async () => {
    const store = createMemoryStore();
    const ref = { collection: 'c', key: 'k' };
    await store.put(
      { ...ref, data: { n: 0 }, expiresAt: null, index: { i: 'v1' } },
      { mode: 'insert', now: NOW },
    );
    await store.update(ref, { inc: { n: 1 } });
    expect((await store.findByIndex('c', 'i', 'v1')).records.map((r) => r.data.n)).toEqual([1]);
    await store.update(ref, { index: { i: 'v2' } });
    expect((await store.findByIndex('c', 'i', 'v1')).records).toEqual([]);
    expect((await store.findByIndex('c', 'i', 'v2')).records.map((r) => r.key)).toEqual(['k']);
    await store.delete(ref);
    expect((await store.findByIndex('c', 'i', 'v2')).records).toEqual([]);
    // The freed slot goes to another record, which must not inherit anything.
    await store.put(
      { collection: 'c', key: 'other', data: { m: 1 }, expiresAt: 5 },
      { mode: 'insert', now: 1 },
    );
    const other = await store.get({ collection: 'c', key: 'other' });
    expect(other).toEqual({
      collection: 'c',
      key: 'other',
      partition: 'other',
      data: { m: 1 },
      expiresAt: 5,
      index: {},
      version: 1,
    });
    expect(await store.get(ref)).toBeNull();
  });

  it('holds many records, sweeps the expired ones and reuses their room', async () => {
    const store = createMemoryStore();
    for (let i = 0; i < 5000; i++) {
      await store.put(
        { collection: 'c', key: `k${i}`, data: { i }, expiresAt: i % 2 === 0 ? 100 : null },
        { mode: 'insert', now: 1 },
      );
    }
    expect(await store.sweep(100, { limit: 10_000 })).toBe(2500);
    for (let i = 5000; i < 7500; i++) {
      await store.put(
        { collection: 'c', key: `k${i}`, data: { i }, expiresAt: 200 },
        { mode: 'insert', now: 1 },
      );
    }
    for (const i of [0, 1, 2, 4999, 5000, 7499]) {
      const r = await store.get({ collection: 'c', key: `k${i}` });
      if (i < 5000 && i % 2 === 0) expect(r).toBeNull();
      else expect(r).toMatchObject({ data: { i }, expiresAt: i < 5000 ? null : 200, version: 1 });
    }
    let listed = 0;
    let cursor: string | null = null;
    do {
      const page = await store.list('c', { limit: 1000, cursor });
      listed += page.records.length;
      cursor = page.cursor;
    } while (cursor !== null);
    expect(listed).toBe(5000);
  });
});

describe('memory store: checks', () => {
  it('checks again a mutation that was not frozen, so a later change is still refused', async () => {
    const store = createMemoryStore();
    const ref = { collection: 'c', key: 'k' };
    await store.put({ ...ref, data: { n: 0 }, expiresAt: null }, { mode: 'insert', now: NOW });
    const m = { inc: { n: 1 } } as { inc: Record<string, number> };
    await store.update(ref, m);
    m.inc.n = Number.NaN;
    await expect(store.update(ref, m)).rejects.toMatchObject({ code: 'ERR_TESSERA_INVALID_INPUT' });
    const bad = { set: { 'bad field': 1 } } as Mutation;
    await expect(store.update(ref, Object.freeze(bad))).rejects.toMatchObject({
      code: 'ERR_TESSERA_INVALID_INPUT',
    });
    await expect(store.update(ref, bad)).rejects.toMatchObject({
      code: 'ERR_TESSERA_INVALID_INPUT',
    });
  });

  it('accepts a frozen mutation and frozen conditions on every call', async () => {
    const store = createMemoryStore();
    const ref = { collection: 'c', key: 'k' };
    await store.put({ ...ref, data: { n: 3 }, expiresAt: null }, { mode: 'insert', now: NOW });
    const dec: Mutation = Object.freeze({ inc: Object.freeze({ n: -1 }) });
    const positive = Object.freeze({ field: 'n', op: 'gt' as const, value: 0 });
    const results = [];
    for (let i = 0; i < 5; i++)
      results.push((await store.update(ref, dec, { where: { fields: [positive] } })).ok);
    expect(results).toEqual([true, true, true, false, false]);
  });
});
