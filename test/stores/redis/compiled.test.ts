/**
 * Compiled write scripts (one per op shape) against the interpreted write
 * script: the same seeded stream of random writes on two stores, one of each,
 * must give the same results, the same errors and the same stored records,
 * list and index pages, on a single server and with the Cluster protocol.
 */
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type {
  FieldCondition,
  Json,
  Mutation,
  RecordInput,
  Store,
  StoredRecord,
  TransactOp,
  Where,
} from '../../../src/stores/contract.js';
import { createRedisStore, type RedisStore } from '../../../src/stores/redis/index.js';
import { gateBackend, REDIS_URL, redisAvailable } from '../../support/backends.js';
import { deleteKeys, keysOf, openClient, runPrefix } from './helpers.js';

const NOW = Date.UTC(2026, 0, 1);
const C = 'things';

/** A small seeded generator (mulberry32), so a failure replays. */
function random(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)] as T;
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof random>;

const KEYS = ['a', 'b', 'c', 'd'];
const PARTITIONS = ['p1', 'p2'];
const VALUES: Json[] = [0, 1, 2, -3, 1.5, 'x', 'y', true, false, null, ['x'], [], { k: 1 }];

function ref(rng: Rng, partition: string) {
  return { collection: C, key: rng.pick(KEYS), partition };
}

function condition(rng: Rng): FieldCondition {
  const field = rng.pick(['n', 's', 'tags', 'gone']);
  const op = rng.pick([
    'eq',
    'ne',
    'gt',
    'gte',
    'lt',
    'lte',
    'exists',
    'absent',
    'contains',
  ] as const);
  if (op === 'exists' || op === 'absent') return { field, op };
  if (op === 'contains') return { field, op, value: rng.pick(['x', 'y']) };
  if (op === 'eq' || op === 'ne') {
    return {
      field,
      op,
      value: rng.pick([0, 1, 2, 'x', true, null]) as string | number | boolean | null,
    };
  }
  return { field, op, value: rng.int(4) - 1 };
}

function where(rng: Rng): Where | undefined {
  if (rng.chance(0.3)) return undefined;
  const w: { version?: number; liveAt?: number; fields?: FieldCondition[] } = {};
  if (rng.chance(0.3)) w.version = 1 + rng.int(4);
  if (rng.chance(0.5)) w.liveAt = NOW + rng.int(3) * 1000;
  if (rng.chance(0.7)) w.fields = Array.from({ length: 1 + rng.int(2) }, () => condition(rng));
  return w;
}

function input(rng: Rng) {
  const data: Record<string, Json> = { n: rng.int(3) };
  if (rng.chance(0.6)) data.s = rng.pick(['x', 'y', 1]);
  if (rng.chance(0.5)) data.tags = rng.pick([['x'], ['x', 'y'], []]);
  if (rng.chance(0.3)) data.obj = { deep: [1, { a: null }] };
  const index: Record<string, string> = {};
  if (rng.chance(0.5)) index.owner = rng.pick(['o1', 'o2']);
  if (rng.chance(0.3)) index.kind = rng.pick(['k1', 'k2']);
  return {
    data,
    expiresAt: rng.pick([null, NOW + 500, NOW + 1500, NOW + 5000, NOW - 1]),
    index,
  };
}

function mutation(rng: Rng): Mutation {
  const m: {
    set?: Record<string, Json>;
    inc?: Record<string, number>;
    unset?: string[];
    add?: Record<string, string[]>;
    remove?: Record<string, string[]>;
    expiresAt?: number | null;
    index?: Record<string, string | null>;
  } = {};
  const used = new Set<string>();
  const take = (f: string) => {
    if (used.has(f)) return false;
    used.add(f);
    return true;
  };
  if (rng.chance(0.4) && take('s')) m.set = { s: rng.pick(VALUES) };
  if (rng.chance(0.5)) {
    const f = rng.pick(['n', 'count', 's']);
    if (take(f)) m.inc = { [f]: rng.pick([1, -1, 0.5, 2]) };
  }
  if (rng.chance(0.2) && take('obj')) m.unset = ['obj'];
  if (rng.chance(0.3)) {
    const f = rng.pick(['tags', 'more']);
    if (take(f)) m.add = { [f]: rng.chance(0.5) ? ['x'] : ['y', 'z'] };
  }
  if (rng.chance(0.2) && take('tags')) m.remove = { tags: ['x'] };
  if (rng.chance(0.3)) m.expiresAt = rng.pick([null, NOW + 2000, NOW + 9000]);
  if (rng.chance(0.3)) m.index = { owner: rng.pick(['o1', 'o2', null]) };
  return m;
}

function op(rng: Rng, partition: string): TransactOp {
  const kind = rng.pick(['put', 'put', 'update', 'update', 'update', 'delete', 'check']);
  const r = ref(rng, partition);
  if (kind === 'put') {
    const mode = rng.pick(['insert', 'upsert', 'replace'] as const);
    const record: RecordInput = { ...r, ...input(rng) };
    return mode === 'replace'
      ? { type: 'put', record, mode, where: where(rng) }
      : { type: 'put', record, mode };
  }
  if (kind === 'update') {
    return {
      type: 'update',
      ref: r,
      mutation: mutation(rng),
      where: where(rng),
      ...(rng.chance(0.3) ? { orCreate: input(rng) } : {}),
    };
  }
  if (kind === 'delete') return { type: 'delete', ref: r, where: where(rng) };
  return { type: 'check', ref: r, where: where(rng), absent: rng.chance(0.3) };
}

/** Run one random write on a store; the outcome as comparable JSON. */
async function apply(store: Store, ops: readonly TransactOp[], now: number): Promise<unknown> {
  try {
    if (ops.length > 1) return await store.transact(ops, now);
    const o = ops[0] as TransactOp;
    if (o.type === 'put') return await store.put(o.record, { mode: o.mode, now, where: o.where });
    if (o.type === 'update') {
      return await store.update(o.ref, o.mutation, {
        where: o.where,
        ...(o.orCreate ? { orCreate: o.orCreate, now } : {}),
      });
    }
    if (o.type === 'delete') return await store.delete(o.ref, o.where);
    return await store.transact(ops, now);
  } catch (err) {
    return { error: (err as Error).name, message: (err as Error).message };
  }
}

async function snapshot(store: Store): Promise<unknown> {
  const all: StoredRecord[] = [];
  for (const p of PARTITIONS) {
    for (const k of KEYS) {
      const r = await store.get({ collection: C, key: k, partition: p });
      if (r !== null) all.push(r);
    }
  }
  const list = await store.list(C, { limit: 1000 });
  const owners = await Promise.all(['o1', 'o2'].map((o) => store.findByIndex(C, 'owner', o)));
  return {
    all,
    list: list.records.map((r) => `${r.partition}/${r.key}`),
    owners: owners.map((p) => p.records.map((r) => `${r.partition}/${r.key}`)),
  };
}

/** Every key of a store, as the API cannot see it: entries, states, hints (incarnations dropped). */
async function raw(client: Redis, store: RedisStore): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const P = store.keys.prefix;
  for (const key of await keysOf(client, P)) {
    const name = key.split(P).join('P');
    const type = await client.type(key);
    if (type === 'zset') out[name] = await client.zrange(key, 0, -1, 'WITHSCORES');
    else if (type === 'set') out[name] = (await client.smembers(key)).sort();
    else if (type === 'hash') {
      const h = await client.hgetall(key);
      delete h['#n'];
      for (const [f, v] of Object.entries(h)) {
        const m = /^(\d+)\|[^|]*\|[^|]*\|(\d*)$/.exec(v);
        if (m !== null && !f.startsWith('#')) h[f] = `${m[1]}|${m[2]}`;
      }
      out[name] = h;
    }
  }
  return out;
}

const available = await redisAvailable();

if (gateBackend(`Redis at ${REDIS_URL}`, available, ['redis store: compiled write scripts'])) {
  const client = await openClient(REDIS_URL);
  const prefixes: string[] = [];
  afterAll(async () => {
    for (const p of prefixes) await deleteKeys(client, p);
    await client.quit();
  });

  describe('redis store: compiled write scripts', () => {
    for (const singleNode of [true, false]) {
      it(`answer exactly as the interpreted script (${singleNode ? 'single server' : 'Cluster protocol'})`, async () => {
        const open = (compileScripts: boolean) => {
          const prefix = runPrefix(`compiled-${compileScripts}`);
          prefixes.push(prefix);
          return createRedisStore({ client, prefix, singleNode, compileScripts });
        };
        const compiled = open(true);
        const interpreted = open(false);
        const rng = random(singleNode ? 7 : 11);
        let outcomes = 0;
        for (let step = 0; step < 400; step++) {
          const partition = rng.pick(PARTITIONS);
          const now = NOW + rng.int(4) * 1000;
          const ops: TransactOp[] = [];
          const count = rng.chance(0.25) ? 2 + rng.int(2) : 1;
          const used = new Set<string>();
          while (ops.length < count) {
            const o = op(rng, partition);
            const key = 'record' in o ? o.record.key : o.ref.key;
            if (used.has(key)) continue;
            used.add(key);
            ops.push(o);
          }
          const a = await apply(compiled, ops, now);
          const b = await apply(interpreted, ops, now);
          expect(a, `step ${step}: ${JSON.stringify(ops)}`).toEqual(b);
          if ((a as { ok?: boolean }).ok === true) outcomes++;
          if (step % 50 === 49) {
            expect(await raw(client, compiled)).toEqual(await raw(client, interpreted));
            expect(await snapshot(compiled)).toEqual(await snapshot(interpreted));
          }
          if (step % 100 === 99) {
            const at = NOW + 6000;
            expect(await compiled.sweep(at)).toBe(await interpreted.sweep(at));
          }
        }
        // The stream must exercise successes as well as refusals.
        expect(outcomes).toBeGreaterThan(50);
        expect(outcomes).toBeLessThan(380);
        expect(await snapshot(compiled)).toEqual(await snapshot(interpreted));
      });
    }
  });
}
