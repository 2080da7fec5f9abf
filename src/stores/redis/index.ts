/**
 * `tessera/stores/redis`: the Redis and Redis Cluster store, over ioredis
 * (an optional peer dependency).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createRedisStore } from 'tessera/stores/redis';
 * const store = createRedisStore({ client: new Redis(), prefix: 'myapp' });
 * await store.migrate();
 * ```
 * @module
 */
export { type KeyLayout, keyLayout } from './keys.js';
export type {
  RedisClient,
  RedisStore,
  RedisStoreClientOptions,
  RedisStoreCommonOptions,
  RedisStoreOptions,
  RedisStoreUrlOptions,
  RedisSweeperOptions,
} from './options.js';
export { createRedisStore, LAYOUT_VERSION } from './redis-store.js';
