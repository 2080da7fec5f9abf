import { afterAll, describe, it } from 'vitest';
import { createSqliteStore } from '../../src/stores/sqlite/index.js';
import { defineSessionsSuite } from '../../src/testing/sessions-suite.js';
import { makeTempDir, WORKER_MODULE } from '../stores/sqlite/helpers.js';
import { createStore as openWorkerStore } from '../stores/sqlite/worker-store.js';

const tmp = makeTempDir();
afterAll(() => tmp.cleanup());

defineSessionsSuite({
  name: 'sqlite',
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
      return { store: await openWorkerStore(arg), spec: { module: WORKER_MODULE, arg } };
    },
  },
});
