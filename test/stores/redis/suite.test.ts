import { afterAll, describe, it } from 'vitest';
import { createRedisStore } from '../../../src/stores/redis/index.js';
import { defineAllSuites } from '../../../src/testing/index.js';
import { gateBackend, REDIS_URL, redisAvailable } from '../../support/backends.js';
import { deleteKeys, openClient, runPrefix } from './helpers.js';
import { createStore as openWorkerStore, WORKER_MODULE } from './worker-store.js';

const available = await redisAvailable();

if (gateBackend(`Redis at ${REDIS_URL}`, available, ['every conformance suite on redis'])) {
  const client = await openClient(REDIS_URL);
  const prefix = runPrefix('suite');
  afterAll(async () => {
    await deleteKeys(client, prefix);
    await client.quit();
  });

  // The application's own client, as most users pass it.
  defineAllSuites({
    name: 'redis',
    runner: { describe, it },
    createStore: async () => {
      const store = createRedisStore({ client, prefix });
      await store.migrate();
      return store;
    },
    multiProcess: {
      processes: 3,
      createSharedStore: async () => {
        const arg = { url: REDIS_URL, prefix };
        return { store: await openWorkerStore(arg), spec: { module: WORKER_MODULE, arg } };
      },
    },
  });
}
