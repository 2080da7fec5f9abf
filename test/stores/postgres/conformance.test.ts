import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, it } from 'vitest';
import { createPostgresStore } from '../../../src/stores/postgres/index.js';
import { defineAllSuites, defineStoreSuite } from '../../../src/testing/index.js';
import { openTestDatabase, requirePostgres } from '../../support/postgres.js';
import { createStore as openWorkerStore } from './worker-store.js';

const WORKER_MODULE = fileURLToPath(new URL('./worker-store.ts', import.meta.url));
const SUITES = [
  'store and domain conformance suites: postgres (pool)',
  'store conformance suite: postgres (client)',
];

if (await requirePostgres(SUITES)) {
  const db = openTestDatabase();
  afterAll(() => db.end());

  // One fresh schema for this run: every test uses random collections and owners.
  const schema = db.schema();
  defineAllSuites({
    name: 'postgres (pool)',
    runner: { describe, it },
    createStore: async () => {
      const store = createPostgresStore({ pool: db.pool }, { schema });
      await store.migrate();
      return store;
    },
    multiProcess: {
      processes: 3,
      createSharedStore: async () => {
        const arg = { url: db.url, schema };
        const store = await openWorkerStore(arg);
        return { store, spec: { module: WORKER_MODULE, arg } };
      },
    },
  });

  // The store suite again over one pg.Client per store (statements serialized on it); the
  // domain suites reach the store through the same primitives, covered above.
  const clientSchema = db.schema();
  defineStoreSuite({
    name: 'postgres (client)',
    runner: { describe, it },
    createStore: async () => {
      const client = new pg.Client({ connectionString: db.url });
      client.on('error', () => {});
      await client.connect();
      const store = createPostgresStore({ client }, { schema: clientSchema });
      await store.migrate();
      return {
        ...store,
        async close() {
          await store.close();
          await client.end();
        },
      };
    },
  });
} else {
  describe.skip('postgres conformance (PostgreSQL not reachable)', () => {
    it('is skipped', () => {});
  });
}
