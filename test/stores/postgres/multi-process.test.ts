import { afterAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../../src/stores/postgres/index.js';
import { raceAcrossProcesses } from '../../../src/testing/index.js';
import { openTestDatabase, requirePostgres } from '../../support/postgres.js';
import { WORKER_MODULE } from './helpers.js';
import { createStore } from './worker-store.js';

const SUITES = ['postgres: migrate and LISTEN/NOTIFY across OS processes'];
const available = await requirePostgres(SUITES);
const db = available ? openTestDatabase() : null;
afterAll(() => db?.end());

describe.skipIf(!available)('several processes sharing one PostgreSQL schema', () => {
  it('migrate() from four processes at once creates the schema exactly once', async () => {
    const schema = db!.schema();
    const result = await raceAcrossProcesses(
      { module: WORKER_MODULE, arg: { url: db!.url, schema, migrate: false } },
      { kind: 'custom', module: WORKER_MODULE, exportName: 'migrateRacer', arg: null },
      4,
      3,
    );
    expect(result.errors).toEqual([]);
    expect(result.successes).toBe(12);
    const { rows } = await db!.pool.query(`SELECT version FROM "${schema}".tessera_migrations`);
    expect(rows).toEqual([{ version: SCHEMA_VERSION }]);
  }, 60_000);

  it('delivers a message published in one process to subscribers in others within 1 s', async () => {
    const schema = db!.schema();
    const publisher = await createStore({ url: db!.url, schema });
    const channel = 'pat:revoked';
    const race = raceAcrossProcesses(
      { module: WORKER_MODULE, arg: { url: db!.url, schema } },
      {
        kind: 'custom',
        module: WORKER_MODULE,
        exportName: 'listenRacer',
        arg: { channel, count: 5, timeoutMs: 20_000 },
      },
      2,
      1,
    );
    // Workers subscribe when released; publish until every one has received five messages.
    let done = false;
    const finished = race.finally(() => {
      done = true;
    });
    let sent = 0;
    while (!done && sent < 400) {
      await publisher.events.publish(channel, JSON.stringify({ sentAt: Date.now(), sent }));
      sent++;
      await new Promise((r) => setTimeout(r, 50));
    }
    const result = await finished;
    await publisher.close();
    expect(result.errors).toEqual([]);
    // A racer succeeds when each message it got arrived less than 1000 ms after it was sent.
    expect(result.successes).toBe(2);
  }, 60_000);
});
