/**
 * Cross-process invalidation of the verify cache, on every store whose events
 * reach other processes: the machine's Redis, a private 3-master Redis
 * Cluster, and the machine's PostgreSQL.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createPostgresStore } from '../../src/stores/postgres/index.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { defineAccessTokensEventsSuite } from '../../src/testing/access-tokens-suite-events.js';
import { deleteKeys, openClient, runPrefix } from '../stores/redis/helpers.js';
import {
  gateBackend,
  REDIS_URL,
  redisAvailable,
  redisBinariesAvailable,
} from '../support/backends.js';
import { openTestDatabase, requirePostgres } from '../support/postgres.js';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster.js';

const REDIS_WORKER = fileURLToPath(new URL('../stores/redis/worker-store.ts', import.meta.url));
const POSTGRES_WORKER = fileURLToPath(
  new URL('../stores/postgres/worker-store.ts', import.meta.url),
);
const unusedCreateStore = () => {
  throw new Error('this case opens its stores through multiProcess.createSharedStore');
};

async function redisShared(url: string, prefix: string) {
  const store = createRedisStore({ url, prefix });
  await store.migrate();
  return { store, spec: { module: REDIS_WORKER, arg: { url, prefix } } };
}

if (gateBackend(`Redis at ${REDIS_URL}`, await redisAvailable(), ['access tokens: redis'])) {
  const prefix = runPrefix('single');
  afterAll(async () => {
    const client = await openClient(REDIS_URL);
    await deleteKeys(client, prefix);
    await client.quit();
  });
  defineAccessTokensEventsSuite({
    name: 'redis',
    runner: { describe, it },
    createStore: unusedCreateStore,
    multiProcess: { createSharedStore: () => redisShared(REDIS_URL, prefix) },
  });
}

if (
  gateBackend('redis-server and redis-cli', await redisBinariesAvailable(), [
    'access tokens: redis cluster',
  ])
) {
  let cluster: RedisCluster | undefined;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);
  defineAccessTokensEventsSuite({
    name: 'redis cluster (3 masters)',
    runner: { describe, it },
    createStore: unusedCreateStore,
    multiProcess: {
      createSharedStore: () => {
        if (cluster === undefined) throw new Error('the cluster did not start');
        return redisShared(cluster.url, runPrefix('cluster'));
      },
    },
  });
}

if (await requirePostgres(['access tokens: postgres across processes'])) {
  const db = openTestDatabase();
  afterAll(() => db.end());
  const schema = db.schema();
  defineAccessTokensEventsSuite({
    name: 'postgres',
    runner: { describe, it },
    createStore: unusedCreateStore,
    multiProcess: {
      createSharedStore: async () => {
        const store = createPostgresStore({ url: db.url }, { schema });
        await store.migrate();
        return { store, spec: { module: POSTGRES_WORKER, arg: { url: db.url, schema } } };
      },
    },
  });
}
