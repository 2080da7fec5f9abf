import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidInputError, StoreError, StoreUnavailableError } from '../../../src/core/errors.js';
import { toStoreError } from '../../../src/stores/sqlite/errors.js';
import { createSqliteStore } from '../../../src/stores/sqlite/index.js';
import { SCHEMA_VERSION } from '../../../src/stores/sqlite/schema.js';
import { makeTempDir } from './helpers.js';

const tmp = makeTempDir();
afterAll(() => tmp.cleanup());
afterEach(() => {
  vi.restoreAllMocks();
});

const rec = (key: string, extra: Record<string, unknown> = {}) => ({
  collection: 'things',
  key,
  data: { n: 1 },
  expiresAt: null,
  ...extra,
});

function tableNames(db: Database.Database): string[] {
  return (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{
      name: string;
    }>
  ).map((r) => r.name);
}

describe('createSqliteStore', () => {
  it('does no schema work until migrate() runs', async () => {
    const db = new Database(':memory:');
    const store = createSqliteStore({ database: db });
    expect(store.kind).toBe('sqlite');
    expect(tableNames(db)).toEqual([]);
    await expect(store.get({ collection: 'things', key: 'k' })).rejects.toThrow(/migrate\(\)/);
    await store.migrate();
    expect(tableNames(db)).toEqual(['tessera_index', 'tessera_meta', 'tessera_records']);
    db.close();
  });

  it('rejects missing, doubled or malformed options with TypeError or RangeError', () => {
    const db = new Database(':memory:');
    expect(() => createSqliteStore({} as never)).toThrow(TypeError);
    expect(() => createSqliteStore({ database: db, path: ':memory:' } as never)).toThrow(TypeError);
    expect(() => createSqliteStore({ path: ':memory:', tablePrefix: 'bad-prefix' })).toThrow(
      TypeError,
    );
    expect(() => createSqliteStore({ path: ':memory:', busyTimeoutMs: -1 })).toThrow(RangeError);
    db.close();
  });

  it('throws StoreUnavailableError when the file cannot be opened', () => {
    expect(() => createSqliteStore({ path: `${tmp.dir}/missing-dir/x.db` })).toThrow(
      StoreUnavailableError,
    );
  });

  it('sets WAL, busy_timeout, synchronous NORMAL and foreign keys on a file it opens', async () => {
    const pragmas: string[] = [];
    const original = Database.prototype.pragma;
    vi.spyOn(Database.prototype, 'pragma').mockImplementation(function (
      this: Database.Database,
      source: string,
      options?: Database.PragmaOptions,
    ) {
      pragmas.push(source);
      return original.call(this, source, options);
    });
    const path = tmp.file();
    const store = createSqliteStore({ path, busyTimeoutMs: 1234 });
    await store.migrate();
    await store.close();
    expect(pragmas).toEqual(
      expect.arrayContaining([
        'busy_timeout = 1234',
        'synchronous = NORMAL',
        'foreign_keys = ON',
        'journal_mode = WAL',
      ]),
    );
    vi.restoreAllMocks();
    const check = new Database(path, { readonly: true });
    expect(check.pragma('journal_mode', { simple: true })).toBe('wal');
    check.close();
  });

  it("sets only WAL and busy_timeout on the user's database", async () => {
    const db = new Database(tmp.file());
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = OFF');
    const store = createSqliteStore({ database: db, busyTimeoutMs: 777 });
    expect(db.pragma('busy_timeout', { simple: true })).toBe(777);
    await store.migrate();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL, as the user set it
    expect(db.pragma('foreign_keys', { simple: true })).toBe(0); // as the user set it
    db.close();
  });
});

describe('migrate', () => {
  it('is idempotent and keeps data', async () => {
    const db = new Database(':memory:');
    const store = createSqliteStore({ database: db });
    await store.migrate();
    await store.put(rec('k1'), { mode: 'insert', now: 0 });
    await store.migrate();
    await store.migrate();
    expect((await store.get({ collection: 'things', key: 'k1' }))?.data).toEqual({ n: 1 });
    expect(
      db.prepare("SELECT value FROM tessera_meta WHERE name = 'schema_version'").pluck().get(),
    ).toBe(String(SCHEMA_VERSION));
    db.close();
  });

  it('refuses a database with a newer schema version', async () => {
    const db = new Database(':memory:');
    const store = createSqliteStore({ database: db });
    await store.migrate();
    db.prepare("UPDATE tessera_meta SET value = '999' WHERE name = 'schema_version'").run();
    await expect(store.migrate()).rejects.toThrow(StoreError);
    await expect(store.migrate()).rejects.toThrow(/999/);
    db.close();
  });

  it('keeps stores with different table prefixes apart in one database', async () => {
    const db = new Database(':memory:');
    const a = createSqliteStore({ database: db, tablePrefix: 'a_' });
    const b = createSqliteStore({ database: db, tablePrefix: 'b_' });
    await a.migrate();
    await b.migrate();
    await a.put(rec('k'), { mode: 'insert', now: 0 });
    expect(await b.get({ collection: 'things', key: 'k' })).toBeNull();
    expect(tableNames(db)).toEqual(expect.arrayContaining(['a_records', 'b_records', 'a_index']));
    db.close();
  });
});

describe('storage', () => {
  it('keeps data, versions, expiry and indexes after the file is reopened', async () => {
    const path = tmp.file();
    const first = createSqliteStore({ path });
    await first.migrate();
    await first.put(rec('k1', { expiresAt: 5000, index: { owner: 'o1' } }), {
      mode: 'insert',
      now: 0,
    });
    await first.update({ collection: 'things', key: 'k1' }, { inc: { n: 2 } });
    await first.close();

    const second = createSqliteStore({ path });
    await second.migrate();
    expect(await second.get({ collection: 'things', key: 'k1' })).toEqual({
      collection: 'things',
      key: 'k1',
      partition: 'k1',
      data: { n: 3 },
      expiresAt: 5000,
      index: { owner: 'o1' },
      version: 2,
    });
    const page = await second.findByIndex('things', 'owner', 'o1');
    expect(page.records.map((r) => r.key)).toEqual(['k1']);
    await second.close();
  });

  it('keeps the index table in step with every write, in the same transaction', async () => {
    const db = new Database(':memory:');
    const store = createSqliteStore({ database: db });
    await store.migrate();
    const rows = () =>
      db.prepare('SELECT name, value, key FROM tessera_index ORDER BY key, name').all();
    await store.put(rec('k1', { index: { owner: 'o1', role: 'r' } }), { mode: 'insert', now: 0 });
    await store.put(rec('k2', { index: { owner: 'o1' } }), { mode: 'insert', now: 0 });
    await store.update({ collection: 'things', key: 'k1' }, { index: { owner: 'o2', role: null } });
    expect(rows()).toEqual([
      { name: 'owner', value: 'o2', key: 'k1' },
      { name: 'owner', value: 'o1', key: 'k2' },
    ]);
    await store.delete({ collection: 'things', key: 'k2' });
    expect(rows()).toEqual([{ name: 'owner', value: 'o2', key: 'k1' }]);
    db.close();
  });

  it('rolls back the whole write when the database rejects part of it', async () => {
    const db = new Database(':memory:');
    const store = createSqliteStore({ database: db });
    await store.migrate();
    db.exec(`CREATE TRIGGER no_k2 BEFORE INSERT ON tessera_records WHEN NEW.key = 'k2'
             BEGIN SELECT RAISE(ABORT, 'k2 refused'); END`);
    const err = await store
      .put(rec('k2', { index: { owner: 'o1' } }), { mode: 'insert', now: 0 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('ERR_TESSERA_STORE');
    expect((err as StoreError).cause).toMatchObject({ code: 'SQLITE_CONSTRAINT_TRIGGER' });
    expect(db.prepare('SELECT count(*) FROM tessera_index').pluck().get()).toBe(0);
    db.close();
  });

  it('reports a corrupt row as StoreError instead of returning it', async () => {
    const db = new Database(':memory:');
    const store = createSqliteStore({ database: db });
    await store.migrate();
    await store.put(rec('k1'), { mode: 'insert', now: 0 });
    db.prepare("UPDATE tessera_records SET data = '[1' WHERE key = 'k1'").run();
    await expect(store.get({ collection: 'things', key: 'k1' })).rejects.toThrow(StoreError);
    db.close();
  });

  it('rejects keys with lone surrogates, which SQLite cannot store faithfully', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.migrate();
    await expect(store.put(rec('a\ud800'), { mode: 'insert', now: 0 })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    await store.put(rec('emoji-😀'), { mode: 'insert', now: 0 });
    expect((await store.get({ collection: 'things', key: 'emoji-😀' }))?.key).toBe('emoji-😀');
    await store.close();
  });

  it('pages a filtered list past rows the filter drops, in key order', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.migrate();
    for (let i = 0; i < 700; i++) {
      const key = `k${String(i).padStart(4, '0')}`;
      await store.put(rec(key, { data: { even: i % 2 === 0, i } }), { mode: 'insert', now: 0 });
    }
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await store.list('things', {
        limit: 50,
        cursor,
        fields: [{ field: 'i', op: 'gte', value: 600 }],
      });
      seen.push(...page.records.map((r) => r.data.i as number));
      cursor = page.cursor;
    } while (cursor !== null);
    expect(seen).toEqual(Array.from({ length: 100 }, (_, j) => 600 + j));
    await store.close();
  });
});

describe('errors', () => {
  it('surfaces a lock held past the busy timeout as StoreUnavailableError', async () => {
    const path = tmp.file();
    const store = createSqliteStore({ path, busyTimeoutMs: 50 });
    await store.migrate();
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    try {
      const err = await store.put(rec('k1'), { mode: 'insert', now: 0 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect((err as StoreUnavailableError).cause).toMatchObject({ code: 'SQLITE_BUSY' });
      await expect(store.sweep(0)).rejects.toBeInstanceOf(StoreUnavailableError);
      // Readers are not blocked by the writer in WAL mode.
      expect(await store.get({ collection: 'things', key: 'k1' })).toBeNull();
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect((await store.put(rec('k1'), { mode: 'insert', now: 0 })).ok).toBe(true);
    await store.close();
  });

  it('passes validation errors through unchanged', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.migrate();
    await expect(
      store.put({ ...rec('k'), collection: 'Bad' }, { mode: 'insert', now: 0 }),
    ).rejects.toBeInstanceOf(InvalidInputError);
    await expect(store.list('things', { limit: 0 })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(store.sweep(0, { limit: 0 })).rejects.toBeInstanceOf(InvalidInputError);
    await store.close();
  });

  it('maps driver error codes to typed errors', () => {
    const sqlite = (code: string) => Object.assign(new Error(code), { code });
    expect(toStoreError(sqlite('SQLITE_BUSY_SNAPSHOT'), 'put')).toBeInstanceOf(
      StoreUnavailableError,
    );
    expect(toStoreError(sqlite('SQLITE_LOCKED'), 'put')).toBeInstanceOf(StoreUnavailableError);
    expect(toStoreError(sqlite('SQLITE_CANTOPEN'), 'put')).toBeInstanceOf(StoreUnavailableError);
    expect(toStoreError(sqlite('SQLITE_IOERR_WRITE'), 'put')).toBeInstanceOf(StoreUnavailableError);
    const other = toStoreError(sqlite('SQLITE_CONSTRAINT'), 'put');
    expect(other).toBeInstanceOf(StoreError);
    expect(other.cause).toMatchObject({ code: 'SQLITE_CONSTRAINT' });
    expect(toStoreError(new TypeError('closed'), 'get', false)).toBeInstanceOf(
      StoreUnavailableError,
    );
    const invalid = new InvalidInputError('bad');
    expect(toStoreError(invalid, 'put')).toBe(invalid);
  });

  it('reports a user database closed under the store as StoreUnavailableError', async () => {
    const db = new Database(':memory:');
    const store = createSqliteStore({ database: db });
    await store.migrate();
    db.close();
    await expect(store.get({ collection: 'things', key: 'k' })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    await expect(store.put(rec('k'), { mode: 'insert', now: 0 })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
  });
});

describe('close', () => {
  it('closes a database the store opened, once, and fails closed afterwards', async () => {
    const closeSpy = vi.spyOn(Database.prototype, 'close');
    const store = createSqliteStore({ path: tmp.file() });
    await store.migrate();
    await store.close();
    await store.close();
    expect(closeSpy).toHaveBeenCalledTimes(1);
    await expect(store.get({ collection: 'things', key: 'k' })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    await expect(store.put(rec('k'), { mode: 'insert', now: 0 })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
  });

  it("never closes the user's database", async () => {
    const db = new Database(':memory:');
    const store = createSqliteStore({ database: db });
    await store.migrate();
    await store.put(rec('k'), { mode: 'insert', now: 0 });
    await store.close();
    expect(db.open).toBe(true);
    expect(db.prepare('SELECT count(*) FROM tessera_records').pluck().get()).toBe(1);
    await expect(store.get({ collection: 'things', key: 'k' })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    db.close();
  });
});
