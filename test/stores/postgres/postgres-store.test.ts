import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createActionTokens } from '../../../src/action-tokens/index.js';
import {
  ConflictError,
  InvalidInputError,
  StoreError,
  StoreUnavailableError,
} from '../../../src/core/errors.js';
import type { RecordInput } from '../../../src/stores/contract.js';
import { toStoreError } from '../../../src/stores/postgres/errors.js';
import { createPostgresStore, SCHEMA_VERSION } from '../../../src/stores/postgres/index.js';
import { schemaNames } from '../../../src/stores/postgres/schema.js';
import { lockRowsSql, writeSql } from '../../../src/stores/postgres/statements.js';
import { createFakeClock, testKeyring } from '../../../src/testing/index.js';
import { freePort, openTestDatabase, requirePostgres } from '../../support/postgres.js';
import { recordingPool, sqlError } from './helpers.js';

const SUITES = ['postgres store: factory, migrate, storage, errors and retries'];
const available = await requirePostgres(SUITES);
const db = available ? openTestDatabase() : null;
afterAll(() => db?.end());

const rec = (key: string, extra: Partial<RecordInput> = {}): RecordInput => ({
  collection: 'things',
  key,
  data: { n: 1 },
  expiresAt: null,
  ...extra,
});

/** A migrated store over a fresh schema of the test database. */
async function fresh(options: Parameters<typeof createPostgresStore>[1] = {}) {
  const schema = db!.schema();
  const store = createPostgresStore({ pool: db!.pool }, { schema, ...options });
  await store.migrate();
  return { store, schema };
}

async function tables(schema: string): Promise<string[]> {
  const { rows } = await db!.pool.query(
    'SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename',
    [schema],
  );
  return rows.map((r) => r.tablename as string);
}

describe.skipIf(!available)('createPostgresStore', () => {
  it('does no I/O until migrate(), which creates the schema, tables and indexes', async () => {
    const schema = db!.schema();
    const { pool, log } = recordingPool(db!.pool);
    const store = createPostgresStore({ pool }, { schema });
    expect(store.kind).toBe('postgres');
    expect(store.schema).toBe(schema);
    expect(log).toEqual([]);
    const err = await store.get({ collection: 'things', key: 'k' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(/migrate\(\)/);
    await store.migrate();
    expect(await tables(schema)).toEqual([
      'tessera_index',
      'tessera_migrations',
      'tessera_records',
    ]);
    const { rows } = await db!.pool.query(
      'SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname',
      [schema],
    );
    expect(rows.map((r) => r.indexname)).toEqual([
      'tessera_index_pkey',
      'tessera_migrations_pkey',
      'tessera_records_expires_at',
      'tessera_records_pkey',
    ]);
    await store.close();
  });

  it('rejects missing, doubled or malformed options with TypeError or RangeError', () => {
    const pool = db!.pool;
    expect(() => createPostgresStore({} as never)).toThrow(TypeError);
    expect(() => createPostgresStore(undefined as never)).toThrow(TypeError);
    expect(() => createPostgresStore({ pool, url: 'postgres://x/y' } as never)).toThrow(TypeError);
    expect(() => createPostgresStore({ pool: {} as never })).toThrow(TypeError);
    expect(() => createPostgresStore({ url: 'mysql://x/y' })).toThrow(TypeError);
    expect(() => createPostgresStore({ pool }, { schema: 'Bad-Schema' })).toThrow(TypeError);
    expect(() => createPostgresStore({ pool }, { schema: 'x'.repeat(49) })).toThrow(TypeError);
    expect(() => createPostgresStore({ pool }, { maxRetries: -1 })).toThrow(RangeError);
  });

  it('opens a pool of its own from a URL, and ends it on close()', async () => {
    const schema = db!.schema();
    const store = createPostgresStore({ url: db!.url }, { schema });
    await store.migrate();
    expect((await store.put(rec('k1'), { mode: 'insert', now: 0 })).ok).toBe(true);
    expect((await store.get({ collection: 'things', key: 'k1' }))?.data).toEqual({ n: 1 });
    await store.close();
    await store.close();
    await expect(store.get({ collection: 'things', key: 'k1' })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
  });

  it('never ends a pool or client the caller passed in', async () => {
    const { store } = await fresh();
    await store.close();
    expect((await db!.pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    const client = new pg.Client({ connectionString: db!.url });
    await client.connect();
    const schema = db!.schema();
    const byClient = createPostgresStore({ client }, { schema });
    await byClient.migrate();
    await byClient.close();
    expect((await client.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    await client.end();
  });
});

describe.skipIf(!available)('migrate', () => {
  it('is idempotent, records its version and keeps data', async () => {
    const { store, schema } = await fresh();
    await store.put(rec('k1'), { mode: 'insert', now: 0 });
    await store.migrate();
    await store.migrate();
    expect((await store.get({ collection: 'things', key: 'k1' }))?.data).toEqual({ n: 1 });
    const { rows } = await db!.pool.query(`SELECT version FROM "${schema}".tessera_migrations`);
    expect(rows).toEqual([{ version: SCHEMA_VERSION }]);
    await store.close();
  });

  it('refuses a schema with a newer version', async () => {
    const { store, schema } = await fresh();
    await db!.pool.query(
      `INSERT INTO "${schema}".tessera_migrations (version, description) VALUES (999, 'future')`,
    );
    const err = await store.migrate().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(/999/);
    await store.close();
  });

  it('keeps stores with different schemas apart in one database', async () => {
    const a = await fresh();
    const b = await fresh();
    await a.store.put(rec('k', { index: { owner: 'o' } }), { mode: 'insert', now: 0 });
    expect(await b.store.get({ collection: 'things', key: 'k' })).toBeNull();
    expect((await b.store.findByIndex('things', 'owner', 'o')).records).toEqual([]);
    await a.store.close();
    await b.store.close();
  });
});

describe.skipIf(!available)('one statement per primitive, on the right index', () => {
  it('makes action-token use() one UPDATE ... RETURNING on the primary key', async () => {
    const schema = db!.schema();
    const { pool, log } = recordingPool(db!.pool);
    const store = createPostgresStore({ pool }, { schema });
    await store.migrate();
    const clock = createFakeClock();
    const tokens = createActionTokens({ store, keyring: testKeyring(), clock });
    const { value } = await tokens.create({ owner: 'u1', action: 'login', remainingUses: 3 });
    log.length = 0;
    const r = await tokens.tryUse({ owner: 'u1', action: 'login', value, drainWhenValid: false });
    expect(r.valid).toBe(true);
    expect(log).toHaveLength(1);
    expect(log[0]!.text).toMatch(/^UPDATE .* RETURNING /s);
    await store.close();
  });

  it('uses the primary key, the index table and the expiry index, never a Seq Scan (EXPLAIN on 20 000 rows)', async () => {
    const schema = db!.schema();
    const { pool, log } = recordingPool(db!.pool);
    const store = createPostgresStore({ pool }, { schema });
    await store.migrate();
    const t = `"${schema}".tessera_records`;
    await db!.pool.query(
      `INSERT INTO ${t} (collection, key, partition, data, idx, version, expires_at)
       SELECT 'c' || (i % 10), 'k' || i, 'k' || i, jsonb_build_object('uses', 5, 'i', i),
         jsonb_build_object('owner', CASE WHEN i % 2 = 0 THEN 'big' ELSE 'o' || (i % 500) END), 1,
         CASE WHEN i % 3 = 0 THEN 1000 + i END
       FROM generate_series(1, 20000) AS i`,
    );
    await db!.pool.query(`ANALYZE ${t}; ANALYZE "${schema}".tessera_index`);
    const plans: Record<string, string> = {};
    const explain = async (label: string, run: () => Promise<unknown>) => {
      log.length = 0;
      await run();
      const q = log[0]!;
      const { rows } = await db!.pool.query(`EXPLAIN ${q.text}`, q.values);
      plans[label] = rows.map((r) => r['QUERY PLAN']).join('\n');
    };
    const ref = { collection: 'c1', key: 'k11' };
    await explain('get', () => store.get(ref));
    await explain('getMany', () => store.getMany([ref, { collection: 'c2', key: 'k12' }]));
    await explain('update', () =>
      store.update(
        ref,
        { inc: { uses: -1 } },
        { where: { liveAt: 0, fields: [{ field: 'uses', op: 'gt', value: 0 }] } },
      ),
    );
    await explain('delete', () => store.delete({ collection: 'c9', key: 'k9' }, { version: 7 }));
    await explain('put', () => store.put(rec('new'), { mode: 'insert', now: 0 }));
    await explain('list', () => store.list('c3', { limit: 10 }));
    await explain('findByIndex', () => store.findByIndex('c1', 'owner', 'o1', { limit: 10 }));
    // 2000 records of c0 share one index value: pages must still stop early.
    await explain('findByIndex many', () => store.findByIndex('c0', 'owner', 'big', { limit: 10 }));
    await explain('findByIndex filtered', () =>
      store.findByIndex('c1', 'owner', 'o1', {
        limit: 10,
        fields: [{ field: 'i', op: 'gt', value: 100 }],
      }),
    );
    await explain('sweep', () => store.sweep(5000, { limit: 100 }));
    // transact runs these on one checked-out connection: explain the statements it builds.
    const names = schemaNames(schema);
    const refs = [ref, { collection: 'c1', key: 'k21' }];
    for (const [label, q] of [
      ['transact lock rows', lockRowsSql(names, refs)],
      ['transact write', writeSql(names, [], refs)],
    ] as const) {
      const { rows } = await db!.pool.query(`EXPLAIN ${q.text}`, [...q.values]);
      plans[label] = rows.map((r) => r['QUERY PLAN']).join('\n');
    }

    for (const [label, plan] of Object.entries(plans)) {
      expect(plan, label).not.toMatch(/Seq Scan/);
    }
    expect(plans.get).toMatch(/Index Scan using tessera_records_pkey/);
    expect(plans.getMany).toMatch(/Index Scan using tessera_records_pkey/);
    expect(plans.update).toMatch(/Index Scan using tessera_records_pkey/);
    expect(plans.delete).toMatch(/Index Scan using tessera_records_pkey/);
    expect(plans.put).toMatch(/Conflict Arbiter Indexes: tessera_records_pkey/);
    expect(plans.list).toMatch(/Index Scan using tessera_records_pkey/);
    const indexTable = /(Index (Only )?Scan using|Bitmap Index Scan on) tessera_index_pkey/;
    expect(plans.findByIndex).toMatch(indexTable);
    expect(plans.findByIndex).toMatch(/Index Scan using tessera_records_pkey/);
    expect(plans['findByIndex many']).toMatch(/Index Only Scan using tessera_index_pkey/);
    expect(plans['findByIndex many']).toMatch(/Nested Loop/);
    expect(plans['findByIndex filtered']).toMatch(indexTable);
    expect(plans.sweep).toMatch(/Tid Scan/);
    expect(plans.sweep).toMatch(/Index Scan using tessera_records_expires_at/);
    expect(plans['transact lock rows']).toMatch(/Index Scan using tessera_records_pkey/);
    expect(plans['transact write']).toMatch(/Index Scan using tessera_records_pkey/);
    await store.close();
  });
});

describe.skipIf(!available)('storage', () => {
  it('keeps the index table in step with every write, in the same statement', async () => {
    const { store, schema } = await fresh();
    const rows = async () =>
      (
        await db!.pool.query(
          `SELECT name, value, key FROM "${schema}".tessera_index ORDER BY key, name`,
        )
      ).rows;
    await store.put(rec('k1', { index: { owner: 'o1', role: 'r' } }), { mode: 'insert', now: 0 });
    await store.put(rec('k2', { index: { owner: 'o1' } }), { mode: 'insert', now: 0 });
    await store.put(rec('k3', { index: { owner: 'o3' }, expiresAt: 10 }), {
      mode: 'insert',
      now: 0,
    });
    await store.update({ collection: 'things', key: 'k1' }, { index: { owner: 'o2', role: null } });
    await store.put(rec('k2', { index: { owner: 'o9' } }), { mode: 'upsert', now: 0 });
    expect(await rows()).toEqual([
      { name: 'owner', value: 'o2', key: 'k1' },
      { name: 'owner', value: 'o9', key: 'k2' },
      { name: 'owner', value: 'o3', key: 'k3' },
    ]);
    await store.delete({ collection: 'things', key: 'k2' });
    expect(await store.sweep(100)).toBe(1);
    const t = await store.transact(
      [
        {
          type: 'put',
          record: { ...rec('k4', { index: { owner: 'o4' } }), partition: 'p' },
          mode: 'insert',
        },
        {
          type: 'update',
          ref: { collection: 'things', key: 'k5', partition: 'p' },
          mutation: { index: { owner: 'o5' } },
          orCreate: { data: {}, expiresAt: null },
        },
      ],
      0,
    );
    expect(t.ok).toBe(true);
    expect(await rows()).toEqual([
      { name: 'owner', value: 'o2', key: 'k1' },
      { name: 'owner', value: 'o4', key: 'k4' },
      { name: 'owner', value: 'o5', key: 'k5' },
    ]);
    await store.close();
  });

  it('rolls back a whole transaction when the database refuses part of it', async () => {
    const { store, schema } = await fresh();
    await db!.pool.query(`CREATE FUNCTION "${schema}".refuse() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN IF NEW.key = 'k2' THEN RAISE EXCEPTION 'k2 refused'; END IF; RETURN NEW; END $$`);
    await db!.pool.query(`CREATE TRIGGER refuse BEFORE INSERT ON "${schema}".tessera_records
      FOR EACH ROW EXECUTE FUNCTION "${schema}".refuse()`);
    const err = await store
      .transact(
        [
          { type: 'put', record: rec('k1', { partition: 'p', index: { o: 'x' } }), mode: 'insert' },
          { type: 'put', record: rec('k2', { partition: 'p' }), mode: 'insert' },
        ],
        0,
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('ERR_TESSERA_STORE');
    expect((err as StoreError).cause).toMatchObject({ code: 'P0001' });
    expect(await store.get({ collection: 'things', key: 'k1' })).toBeNull();
    expect((await store.findByIndex('things', 'o', 'x')).records).toEqual([]);
    await store.close();
  });

  it('reports a corrupt row as StoreError instead of returning it', async () => {
    const { store, schema } = await fresh();
    await store.put(rec('k1'), { mode: 'insert', now: 0 });
    await db!.pool.query(`UPDATE "${schema}".tessera_records SET data = '[1]'`);
    await expect(store.get({ collection: 'things', key: 'k1' })).rejects.toBeInstanceOf(StoreError);
    await store.close();
  });

  it('rejects strings jsonb cannot hold (NUL, lone surrogates) with InvalidInputError', async () => {
    const { store } = await fresh();
    await expect(
      store.put(rec('k', { data: { s: 'a\u0000b' } }), { mode: 'insert', now: 0 }),
    ).rejects.toBeInstanceOf(InvalidInputError);
    await expect(
      store.put(rec('k', { data: { s: 'a\ud800b' } }), { mode: 'insert', now: 0 }),
    ).rejects.toBeInstanceOf(InvalidInputError);
    expect(await store.get({ collection: 'things', key: 'k' })).toBeNull();
    await store.put(rec('k', { data: { s: 'emoji 😀 and "quotes" \\ \n' } }), {
      mode: 'insert',
      now: 0,
    });
    expect((await store.get({ collection: 'things', key: 'k' }))?.data.s).toBe(
      'emoji 😀 and "quotes" \\ \n',
    );
    await store.close();
  });

  it('refuses to reach a record through another partition, as the reference engine does', async () => {
    const { store } = await fresh();
    await store.put(rec('k', { partition: 'p1' }), { mode: 'insert', now: 0 });
    const other = { collection: 'things', key: 'k', partition: 'p2' };
    await expect(store.update(other, { inc: { n: 1 } })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(store.delete(other)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(
      store.put({ ...rec('k'), partition: 'p2' }, { mode: 'upsert', now: 0 }),
    ).rejects.toBeInstanceOf(InvalidInputError);
    await expect(
      store.update(other, { inc: { n: 1 } }, { orCreate: { data: {}, expiresAt: null }, now: 0 }),
    ).rejects.toBeInstanceOf(InvalidInputError);
    expect((await store.get({ collection: 'things', key: 'k' }))?.version).toBe(1);
    await store.close();
  });

  it('lists keys in code-point order whatever the database collation', async () => {
    const { store } = await fresh();
    const keys = ['b', 'B', 'a', 'Z', 'é', '_', 'a-b', 'ab', '10', '9'];
    for (const k of keys) await store.put(rec(k), { mode: 'insert', now: 0 });
    const listed = (await store.list('things')).records.map((r) => r.key);
    expect(listed).toEqual([...keys].sort());
    await store.close();
  });

  it('pages a filtered list past a scan window where nothing matches', async () => {
    const { store, schema } = await fresh();
    await db!.pool.query(
      `INSERT INTO "${schema}".tessera_records (collection, key, partition, data, version)
       SELECT 'things', 'k' || lpad(i::text, 5, '0'), 'p', jsonb_build_object('hit', i IN (3, 7777, 11999)), 1
       FROM generate_series(1, 12000) AS i`,
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await store.list('things', {
        limit: 2,
        cursor,
        fields: [{ field: 'hit', op: 'eq', value: true }],
      });
      seen.push(...page.records.map((r) => r.key));
      cursor = page.cursor;
      pages++;
    } while (cursor !== null && pages < 50);
    expect(seen).toEqual(['k00003', 'k07777', 'k11999']);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(pages).toBeLessThan(10);
    await store.close();
  });
});

describe.skipIf(!available)('sweep', () => {
  async function seeded(expired: number, live: number) {
    const { store, schema } = await fresh();
    await db!.pool.query(
      `INSERT INTO "${schema}".tessera_records (collection, key, partition, data, idx, version, expires_at)
       SELECT 'tokens', 'e' || lpad(i::text, 5, '0'), 'p', '{}'::jsonb, jsonb_build_object('owner', 'o' || (i % 3)), 1, 1000 + i
       FROM generate_series(0, $1::int - 1) AS i
       UNION ALL
       SELECT 'tokens', 'l' || i, 'p', '{}'::jsonb, '{"owner": "o0"}'::jsonb, 1, NULL FROM generate_series(0, $2::int - 1) AS i`,
      [expired, live],
    );
    const count = async (table: 'records' | 'index') =>
      Number(
        (await db!.pool.query(`SELECT count(*) AS n FROM "${schema}".tessera_${table}`)).rows[0].n,
      );
    return { store, schema, count };
  }

  it('deletes only rows expired at or before now - graceMs, with their index rows', async () => {
    const { store, count } = await seeded(10, 2);
    expect(await store.sweep(1004, { graceMs: 5 })).toBe(0);
    expect(await store.sweep(1004)).toBe(5);
    expect(await count('records')).toBe(7);
    expect(await count('index')).toBe(7);
    const owners = await store.findByIndex('tokens', 'owner', 'o0');
    expect(owners.records.map((r) => r.key)).toEqual(['e00006', 'e00009', 'l0', 'l1']);
    await store.close();
  });

  it('deletes in bounded batches, so a backlog drains over several calls', async () => {
    const { store, count } = await seeded(1200, 3);
    const batches: number[] = [];
    for (;;) {
      const n = await store.sweep(1_000_000, { limit: 500 });
      batches.push(n);
      if (n === 0) break;
    }
    expect(batches).toEqual([500, 500, 200, 0]);
    expect(await count('records')).toBe(3);
    expect(await count('index')).toBe(3);
    await store.close();
  });

  it('skips rows another transaction holds instead of waiting for them', async () => {
    const { store, schema, count } = await seeded(20, 0);
    const holder = await db!.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(
        `SELECT 1 FROM "${schema}".tessera_records WHERE key = 'e00000' FOR UPDATE`,
      );
      const started = Date.now();
      expect(await store.sweep(1_000_000)).toBe(19);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(await count('records')).toBe(1);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect(await store.sweep(1_000_000)).toBe(1);
    await store.close();
  });

  it('runs in the background with startSweeper, until stopped or closed', async () => {
    const { store, count } = await seeded(25, 1);
    const clock = createFakeClock(1010);
    const stop = store.startSweeper({ intervalMs: 20, clock, limit: 10 });
    const until = async (want: number) => {
      for (let i = 0; i < 200 && (await count('records')) !== want; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      return count('records');
    };
    expect(await until(15)).toBe(15); // e00000..e00010 expired at or before 1010
    stop();
    clock.set(1_000_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(await count('records')).toBe(15);
    store.startSweeper({ intervalMs: 20, clock, limit: 10 });
    expect(await until(1)).toBe(1);
    await store.close();
  });
});

describe.skipIf(!available)('errors and retries', () => {
  it('throws StoreUnavailableError when the server cannot be reached', async () => {
    const port = await freePort();
    const store = createPostgresStore(
      { url: `postgres://postgres@127.0.0.1:${port}/test` },
      { poolConfig: { connectionTimeoutMillis: 1000 } },
    );
    const ref = { collection: 'things', key: 'k' };
    const calls: Array<() => Promise<unknown>> = [
      () => store.migrate(),
      () => store.get(ref),
      () => store.getMany([ref]),
      () => store.put(rec('k'), { mode: 'insert', now: 0 }),
      () => store.update(ref, { inc: { n: 1 } }),
      () => store.delete(ref),
      () => store.transact([{ type: 'check', ref }], 0),
      () => store.list('things'),
      () => store.findByIndex('things', 'owner', 'o'),
      () => store.sweep(0),
      () => store.events.publish('c', 'm'),
      () => store.events.subscribe('c', () => {}),
    ];
    for (const call of calls) {
      const err = await call().catch((e: unknown) => e);
      expect(err, String(call)).toBeInstanceOf(StoreUnavailableError);
      expect((err as StoreUnavailableError).code).toBe('ERR_TESSERA_STORE_UNAVAILABLE');
    }
    await store.close();
  });

  it('passes validation errors through unchanged, before any I/O', async () => {
    const { pool, log } = recordingPool(db!.pool);
    const store = createPostgresStore({ pool }, { schema: db!.schema() });
    await expect(
      store.put({ ...rec('k'), collection: 'Bad' }, { mode: 'insert', now: 0 }),
    ).rejects.toBeInstanceOf(InvalidInputError);
    await expect(store.list('things', { limit: 0 })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(store.sweep(0, { limit: 0 })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(store.transact([], 0)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(
      store.update({ collection: 'things', key: 'k' }, { set: { a: 1 }, unset: ['a'] }),
    ).rejects.toBeInstanceOf(InvalidInputError);
    expect(log).toEqual([]);
    await store.close();
  });

  it('runs a statement again after a serialization failure or deadlock, then throws ConflictError', async () => {
    const schema = db!.schema();
    let failures = 0;
    const { pool, log } = recordingPool(db!.pool, (q) =>
      failures > 0 && q.text.startsWith('UPDATE')
        ? sqlError(failures-- % 2 === 0 ? '40001' : '40P01')
        : undefined,
    );
    const store = createPostgresStore({ pool }, { schema, maxRetries: 3 });
    await store.migrate();
    await store.put(rec('k', { data: { n: 0 } }), { mode: 'insert', now: 0 });
    const ref = { collection: 'things', key: 'k' };
    failures = 3;
    log.length = 0;
    const ok = await store.update(ref, { inc: { n: 1 } });
    expect(ok.ok).toBe(true);
    expect(log.filter((q) => q.text.startsWith('UPDATE'))).toHaveLength(4);
    failures = 4;
    const err = await store.update(ref, { inc: { n: 1 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).cause).toMatchObject({ code: expect.stringMatching(/^40/) });
    expect((await store.get(ref))?.data.n).toBe(1);
    await store.close();
  });

  it('under SERIALIZABLE sessions, racing writers get only typed outcomes and no lost update', async () => {
    const serializable = new pg.Pool({
      connectionString: db!.url,
      max: 12,
      options: '-c default_transaction_isolation=serializable',
    });
    serializable.on('error', () => {});
    const { pool, serverErrors } = recordingPool(serializable);
    const store = createPostgresStore({ pool }, { schema: db!.schema(), maxRetries: 20 });
    await store.migrate();
    const ref = { collection: 'things', key: 'k', partition: 'p' };
    await store.put(
      { ...rec('k', { data: { uses: 30 } }), partition: 'p' },
      {
        mode: 'insert',
        now: 0,
      },
    );
    const outcomes = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        i % 4 === 0
          ? store.transact(
              [
                {
                  type: 'update',
                  ref,
                  mutation: { inc: { uses: -1 } },
                  where: { fields: [{ field: 'uses', op: 'gt', value: 0 }] },
                },
              ],
              0,
            )
          : store.update(
              ref,
              { inc: { uses: -1 } },
              { where: { fields: [{ field: 'uses', op: 'gt', value: 0 }] } },
            ),
      ),
    );
    const raw = outcomes.filter(
      (o) =>
        o.status === 'rejected' && (o.reason as { code?: string }).code !== 'ERR_TESSERA_CONFLICT',
    );
    expect(raw).toEqual([]);
    const successes = outcomes.filter(
      (o) => o.status === 'fulfilled' && (o.value as { ok: boolean }).ok,
    ).length;
    expect(successes).toBeGreaterThan(0);
    expect((await store.get(ref))?.data.uses).toBe(30 - successes);
    // The server did refuse some attempts: the retries above were real.
    expect(serverErrors.filter((c) => c === '40001').length).toBeGreaterThan(0);
    await store.close();
    await serializable.end();
  });

  it('maps driver failures to typed errors', () => {
    const unavailable = [
      sqlError('ECONNREFUSED'),
      sqlError('ECONNRESET'),
      sqlError('57P01', 'terminating connection due to administrator command'),
      sqlError('57P03', 'the database system is starting up'),
      sqlError('08006'),
      sqlError('53300', 'too many connections'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
    ];
    for (const e of unavailable) {
      const mapped = toStoreError(e, 'get');
      expect(mapped, e.message).toBeInstanceOf(StoreUnavailableError);
      expect(mapped.cause).toBe(e);
    }
    const other = toStoreError(sqlError('42601', 'syntax error'), 'get');
    expect(other).toBeInstanceOf(StoreError);
    expect(other).not.toBeInstanceOf(StoreUnavailableError);
    expect(toStoreError(sqlError('42P01'), 'get').message).toMatch(/migrate\(\)/);
    expect(toStoreError(sqlError('22P05'), 'put')).toBeInstanceOf(InvalidInputError);
    const passthrough = new InvalidInputError('bad');
    expect(toStoreError(passthrough, 'put')).toBe(passthrough);
  });
});
