/**
 * Building the Tessera Redis store for ms-token's `backend: { name: 'redis',
 * connection, prefix }`. The Redis store module is loaded on first use with a
 * dynamic import, so the facade loads (and works over any other store)
 * without it.
 * @module
 */
import type { Store } from '../../stores/contract.js';

/** Where the Redis store lives, relative to this module (source and build alike). */
const REDIS_STORE_MODULE = '../../stores/redis/index.js';

/** What the facade needs from the Redis store module. */
interface RedisStoreModule {
  createRedisStore(options: { client: unknown; prefix?: string }): Store;
}

/**
 * A migrated Tessera Redis store over the caller's ioredis client.
 *
 * @param client - an ioredis `Redis` or `Cluster`
 * @param prefix - ms-token's `backend.prefix`, passed on as the store's key prefix
 * @throws Error when the Redis store module cannot be loaded
 * @example `const store = await loadRedisStore(new Redis(), 'ms-token:');`
 */
export async function loadRedisStore(client: unknown, prefix: string | undefined): Promise<Store> {
  let mod: Partial<RedisStoreModule>;
  try {
    mod = (await import(REDIS_STORE_MODULE)) as Partial<RedisStoreModule>;
  } catch (err) {
    throw new Error(
      'tessera/compat/ms-token: the Redis store (tessera/stores/redis) could not be loaded; ' +
        'pass { store } to use another Tessera store',
      { cause: err },
    );
  }
  if (typeof mod.createRedisStore !== 'function') {
    throw new Error(
      'tessera/compat/ms-token: tessera/stores/redis does not export createRedisStore',
    );
  }
  const store = mod.createRedisStore({
    client,
    ...(prefix === undefined ? {} : { prefix }),
  });
  await store.migrate();
  return store;
}
