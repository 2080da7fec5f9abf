import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../../src/stores/sqlite/schema.js';
import { raceAcrossProcesses } from '../../../src/testing/index.js';
import { makeTempDir, WORKER_MODULE } from './helpers.js';
import { createStore } from './worker-store.js';

const tmp = makeTempDir();
afterAll(() => tmp.cleanup());

describe('several processes sharing one SQLite file', () => {
  it('migrate() from four processes at once creates the schema exactly once', async () => {
    const path = tmp.file();
    const result = await raceAcrossProcesses(
      { module: WORKER_MODULE, arg: { path, migrate: false } },
      { kind: 'custom', module: WORKER_MODULE, exportName: 'migrateRacer', arg: null },
      4,
      3,
    );
    expect(result.errors).toEqual([]);
    expect(result.successes).toBe(12);
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT name, value FROM tessera_meta').all()).toEqual([
      { name: 'schema_version', value: String(SCHEMA_VERSION) },
    ]);
    db.close();
  }, 60_000);

  it('gives exactly N successes to decrement racers in three processes, and none on a missing record', async () => {
    const path = tmp.file();
    const store = await createStore({ path });
    const result = await raceAcrossProcesses(
      { module: WORKER_MODULE, arg: { path } },
      { kind: 'decrement', collection: 'c', key: 'absent', now: 0 },
      3,
      5,
    );
    // Decrementing a record that does not exist fails for everyone, without errors.
    expect(result).toEqual({ successes: 0, failures: 15, errors: [] });
    await store.put(
      { collection: 'c', key: 'k', data: { uses: 20 }, expiresAt: null },
      { mode: 'insert', now: 0 },
    );
    const race = await raceAcrossProcesses(
      { module: WORKER_MODULE, arg: { path } },
      { kind: 'decrement', collection: 'c', key: 'k', now: 0 },
      3,
      10,
    );
    expect(race.errors).toEqual([]);
    expect(race.successes).toBe(20);
    const after = await store.get({ collection: 'c', key: 'k' });
    expect(after?.data.uses).toBe(0);
    expect(after?.version).toBe(21);
    await store.close();
  }, 60_000);
});
