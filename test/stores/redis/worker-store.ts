/**
 * Opened by race worker processes (see `src/testing/race.ts`): a Redis store
 * over the URL (a server or a cluster seed list) and prefix the test names.
 */
import { fileURLToPath } from 'node:url';
import { createRedisStore, type RedisStore } from '../../../src/stores/redis/index.js';

/** Absolute path of this module, for `WorkerStoreSpec.module`. */
export const WORKER_MODULE = fileURLToPath(import.meta.url);

/** What a worker receives as `arg`. */
export interface WorkerArg {
  readonly url: string;
  readonly prefix: string;
}

/** Open and migrate a store over `arg.url` with `arg.prefix`. */
export async function createStore(arg: WorkerArg): Promise<RedisStore> {
  const store = createRedisStore({ url: arg.url, prefix: arg.prefix });
  await store.migrate();
  return store;
}
