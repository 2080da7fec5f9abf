import { afterAll, describe, it } from 'vitest';
import { createSqliteStore } from '../../../src/stores/sqlite/index.js';
import { defineAllSuites, defineStoreSuite } from '../../../src/testing/index.js';
import { makeTempDir, WORKER_MODULE } from './helpers.js';
import { createStore as openWorkerStore } from './worker-store.js';

const tmp = makeTempDir();
afterAll(() => tmp.cleanup());

defineStoreSuite({
  name: 'sqlite (:memory:)',
  runner: { describe, it },
  createStore: async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.migrate();
    return store;
  },
});

// The store primitives and every domain module on a WAL file, with racers in 3 OS processes.
defineAllSuites({
  name: 'sqlite (WAL file)',
  runner: { describe, it },
  createStore: async () => {
    const store = createSqliteStore({ path: tmp.file() });
    await store.migrate();
    return store;
  },
  multiProcess: {
    processes: 3,
    createSharedStore: async () => {
      const arg = { path: tmp.file() };
      const store = await openWorkerStore(arg);
      return { store, spec: { module: WORKER_MODULE, arg } };
    },
  },
});
