/**
 * The ms-token facade as ms-token users run it: an ioredis connection with
 * default options (a plain `new Redis(url)` or `new Cluster(nodes)`, from
 * ioredis 5 and from ioredis 4, which ms-token 5 requires), an ms-token style
 * prefix with a hash tag in it, the real clock, and the calls of ms-token's
 * README.
 */
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenManager } from '../../src/compat/ms-token/index.js';
import { randomSuffix } from '../../src/testing/index.js';
import { deleteKeys, keysOf } from '../stores/redis/helpers.js';
import {
  gateBackend,
  REDIS_URL,
  redisAvailable,
  redisBinariesAvailable,
} from '../support/backends.js';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster.js';
import { defineMigrationScenarios } from './ms-token-migration-scenarios.js';
import { gatePeers, loadIoRedis4, openCluster4 } from './ms-token-peers.js';

const SHARED_SECRET = '12345678901234567890123456789012';

async function rejection(p: Promise<unknown>): Promise<Error & { reason?: { ttl: number } }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { reason?: { ttl: number } };
  }
  throw new Error('expected a rejection');
}

/** Every key and value under a prefix, as one string (to look for secrets). */
async function dumpKeys(client: Redis | Cluster, prefix: string): Promise<string> {
  const out: string[] = [];
  for (const key of await keysOf(client, prefix)) {
    const type = await client.type(key);
    const value =
      type === 'hash'
        ? await client.hgetall(key)
        : type === 'zset'
          ? await client.zrange(key, 0, -1)
          : type === 'set'
            ? await client.smembers(key)
            : await client.get(key);
    out.push(key, JSON.stringify(value));
  }
  return out.join('\n');
}

function flows(name: string, connect: () => Redis | Cluster) {
  describe(`compat: ms-token TokenManager on ${name}`, () => {
    const prefixes: string[] = [];
    let connection: Redis | Cluster;
    const manager = (extra: Record<string, unknown> = {}) => {
      // ms-token's default prefix embeds the package version in a hash tag.
      const prefix = `{ms-token!test-${randomSuffix(4)}}`;
      prefixes.push(prefix);
      return {
        prefix,
        tm: new TokenManager({
          backend: { name: 'redis', connection, prefix },
          encrypt: { algorithm: 'aes256', sharedSecret: SHARED_SECRET },
          ...extra,
        } as never),
      };
    };

    beforeAll(() => {
      connection = connect();
    });
    afterAll(async () => {
      for (const p of prefixes) await deleteKeys(connection, p);
      await connection.quit();
    });

    it('creates, verifies once with erase, then answers 404', async () => {
      const { tm, prefix } = manager();
      const created = await tm.create({ action: 'register', id: 'v@example.com', ttl: 3600 });
      expect(created).toMatchObject({ action: 'register', id: 'v@example.com' });
      expect(typeof created.secret).toBe('string');
      const done = await tm.verify(created.secret as string);
      expect(done).toMatchObject({
        id: 'v@example.com',
        action: 'register',
        isFirstVerification: true,
      });
      const again = await rejection(tm.verify(created.secret as string));
      expect(again.message).toBe('404');
      // Unlike ms-token, no secret appears in a key name or a value.
      const plain = await tm.create({
        action: 'reset',
        id: 'v@example.com',
        ttl: 3600,
        secret: { type: 'alphabet', alphabet: 'ABCDEFGHJKLMNPQRSTUVWXYZ', length: 24 },
      });
      expect(await dumpKeys(connection, prefix)).not.toContain(plain.secret as string);
    });

    it('throttles a second create with 429 and the remaining ttl', async () => {
      const { tm } = manager();
      await tm.create({ action: 'register', id: 't@example.com', ttl: 3600, throttle: 60 });
      const err = await rejection(
        tm.create({ action: 'register', id: 't@example.com', ttl: 3600, throttle: 60 }),
      );
      expect(err.message).toBe('429');
      expect(err.reason?.ttl).toBeGreaterThan(0);
      expect(err.reason?.ttl).toBeLessThanOrEqual(60);
    });

    it('re-verifies with erase: false, reporting only the first verification as first', async () => {
      const { tm } = manager();
      const { secret } = await tm.create({ action: 'login', id: 'e@example.com', ttl: 3600 });
      const first = await tm.verify(secret as string, { erase: false });
      const second = await tm.verify(secret as string, { erase: false });
      expect(first.isFirstVerification).toBe(true);
      expect(second.isFirstVerification).toBe(false);
      const info = await tm.info({ action: 'login', id: 'e@example.com' });
      expect(info).toMatchObject({ id: 'e@example.com', action: 'login' });
      expect(await tm.remove({ action: 'login', id: 'e@example.com' })).toBe('200');
      expect((await rejection(tm.verify(secret as string))).message).toBe('404');
    });

    it('works under a prefix without a hash tag (the fallback to ms-token keys stays out of the way)', async () => {
      const prefix = `ms-token-test:${randomSuffix(6)}:`;
      prefixes.push(prefix);
      const tm = new TokenManager({
        backend: { name: 'redis', connection, prefix },
        encrypt: { algorithm: 'aes256', sharedSecret: SHARED_SECRET },
      } as never);
      const { secret } = await tm.create({ action: 'register', id: 'p@example.com', ttl: 60 });
      expect((await tm.verify(secret as string)).isFirstVerification).toBe(true);
      expect((await rejection(tm.verify(secret as string))).message).toBe('404');
      await tm.create({ action: 'register', id: 'p@example.com', ttl: 60, throttle: 30 });
      expect(
        (await rejection(tm.create({ action: 'register', id: 'p@example.com', ttl: 60 }))).message,
      ).toBe('429');
    });

    it('lets exactly one of many racing verifies through', async () => {
      const { tm } = manager();
      const { secret } = await tm.create({ action: 'register', id: 'r@example.com', ttl: 3600 });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 25 }, () => tm.verify(secret as string)),
      );
      const ok = outcomes.filter((o) => o.status === 'fulfilled');
      expect(ok).toHaveLength(1);
      for (const o of outcomes) {
        if (o.status === 'rejected') expect((o.reason as Error).message).toBe('404');
      }
    });
  });
}

const available = await redisAvailable();
const peers = gatePeers(['compat: ms-token on ioredis 4 connections']);
if (
  gateBackend(`Redis at ${REDIS_URL}`, available, ['compat: ms-token on an ioredis connection'])
) {
  flows('a default ioredis connection', () => new Redis(REDIS_URL));
  if (peers) {
    flows('a default ioredis 4 connection', () => {
      const IoRedis4 = loadIoRedis4();
      return new IoRedis4(REDIS_URL);
    });
  }
}

const binaries = await redisBinariesAvailable();
if (
  gateBackend('redis-server and redis-cli (to start a private cluster)', binaries, [
    'compat: ms-token on an ioredis Cluster connection',
  ])
) {
  let cluster: RedisCluster | undefined;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);
  const nodes = () => {
    if (cluster === undefined) throw new Error('the cluster did not start');
    return cluster.nodes.slice();
  };
  flows('a default ioredis Cluster connection', () => new Cluster(nodes()));
  if (peers) {
    flows('a default ioredis 4 Cluster connection', () => {
      const IoRedis4 = loadIoRedis4();
      return new IoRedis4.Cluster(nodes()) as unknown as Cluster;
    });
    // ms-token's keys share its prefix's hash tag, so each change is one script on a cluster too.
    defineMigrationScenarios('ms-token and the facade on one ioredis 4 Cluster connection', () =>
      openCluster4(nodes()),
    );
  }
}
