/**
 * The model-based properties of every credential family, on every backend:
 * memory, SQLite, PostgreSQL, Redis, a Redis Cluster of our own, and DynamoDB
 * (dynalite, slow: fewer sequences). Absent networked backends are skipped
 * loudly locally and fail in CI.
 */
import { Cluster, Redis } from 'ioredis';
import { afterAll, describe, it } from 'vitest';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { createPostgresStore } from '../../src/stores/postgres/index.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { createSqliteStore } from '../../src/stores/sqlite/index.js';
import { randomSuffix } from '../../src/testing/index.js';
import { freshStore } from '../stores/dynamodb/helpers.js';
import {
  gateBackend,
  REDIS_URL,
  redisAvailable,
  redisBinariesAvailable,
} from '../support/backends.js';
import { stopSharedTestDynamo } from '../support/dynalite.js';
import { openTestDatabase, postgresAvailable } from '../support/postgres.js';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster.js';
import { scale } from './support/figures.js';
import { defineModelSuite } from './support/model.js';
import { dumpRedis } from './support/stores.js';

const runner = { describe, it };
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
}, 60_000);

defineModelSuite({
  name: 'memory',
  runner,
  createStore: () => createMemoryStore(),
  numRuns: scale(150, 2000),
});

defineModelSuite({
  name: 'sqlite',
  runner,
  createStore: async () => {
    const s = createSqliteStore({ path: ':memory:' });
    await s.migrate();
    return s;
  },
  numRuns: scale(100, 1000),
});

if (gateBackend('PostgreSQL', await postgresAvailable(), ['model-based properties: postgres'])) {
  const db = openTestDatabase();
  const schema = db.schema('tessera_rel_model');
  cleanups.push(() => db.end());
  defineModelSuite({
    name: 'postgres',
    runner,
    createStore: async () => {
      const s = createPostgresStore({ pool: db.pool }, { schema });
      await s.migrate();
      return s;
    },
    numRuns: scale(30, 400),
  });
}

if (gateBackend(`Redis at ${REDIS_URL}`, await redisAvailable(), ['model-based: redis'])) {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  const prefix = `tessera-rel-model-${process.pid}-${randomSuffix(3)}`;
  cleanups.push(async () => {
    const keys = (await dumpRedis(client, prefix)).split('\n').filter(Boolean);
    for (const line of keys) await client.unlink(line.slice(0, line.indexOf(' ')));
    await client.quit();
  });
  defineModelSuite({
    name: 'redis',
    runner,
    createStore: async () => {
      const s = createRedisStore({ client, prefix: `${prefix}:${randomSuffix(3)}` });
      await s.migrate();
      return s;
    },
    numRuns: scale(45, 600),
  });
}

if (
  gateBackend('redis-server (private cluster)', await redisBinariesAvailable(), [
    'model-based properties: redis cluster',
  ])
) {
  let cluster: Promise<{ c: RedisCluster; client: Cluster }> | undefined;
  const open = () => {
    cluster ??= startRedisCluster({ masters: 3 }).then((c) => {
      const client = new Cluster(c.nodes.slice(), {});
      client.on('error', () => {});
      cleanups.push(async () => {
        await client.quit().catch(() => {});
        await c.stop();
      });
      return { c, client };
    });
    return cluster;
  };
  defineModelSuite({
    name: 'redis-cluster',
    runner,
    createStore: async () => {
      const { client } = await open();
      const s = createRedisStore({ client, prefix: `rel-model-${randomSuffix(4)}` });
      await s.migrate();
      return s;
    },
    numRuns: scale(25, 300),
    timeoutMs: 120_000,
  });
}

cleanups.push(() => stopSharedTestDynamo());
defineModelSuite({
  name: 'dynamodb',
  runner,
  createStore: () => freshStore(),
  numRuns: scale(8, 80),
  maxOps: scale(15, 30),
  timeoutMs: 120_000,
});
