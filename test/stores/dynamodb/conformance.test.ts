import { afterAll, describe, it } from 'vitest';
import { defineAllSuites } from '../../../src/testing/index.js';
import { stopSharedTestDynamo } from '../../support/dynalite.js';
import { freshStore, WORKER_MODULE } from './helpers.js';
import { createStore as openWorkerStore } from './worker-store.js';

afterAll(() => stopSharedTestDynamo());

// Every conformance suite (the store primitives and each domain module) on
// dynalite, one fresh table per test, with racers in three OS processes.
defineAllSuites({
  name: 'dynamodb (dynalite)',
  runner: { describe, it },
  createStore: () => freshStore(),
  multiProcess: {
    processes: 3,
    createSharedStore: async () => {
      const first = await freshStore();
      const arg = { endpoint: first.endpoint, tableName: first.tableName };
      await first.close();
      return { store: await openWorkerStore(arg), spec: { module: WORKER_MODULE, arg } };
    },
  },
});
