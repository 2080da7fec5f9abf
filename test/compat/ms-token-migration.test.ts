/**
 * Migrating from ms-token on one Redis server: the scenarios of
 * `ms-token-migration-scenarios.ts` with the facade on ms-token's own ioredis 4
 * connection and on an ioredis 5 one, and ms-token's default prefix.
 * (ms-token-redis.test.ts runs them on a Redis Cluster.)
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenManager } from '../../src/compat/ms-token/index.js';
import { randomSuffix } from '../../src/testing/index.js';
import { keysOf, openClient } from '../stores/redis/helpers.js';
import { gateBackend, REDIS_URL, redisAvailable } from '../support/backends.js';
import {
  code,
  defineMigrationScenarios,
  failure,
  ID,
  SHARED_SECRET,
} from './ms-token-migration-scenarios.js';
import { gatePeers, loadMsToken, openRedis4, type Redis4 } from './ms-token-peers.js';

const redisUp = await redisAvailable();
const peers = gatePeers(['compat: migrating from ms-token 5.0.1']);
const ready =
  gateBackend(`Redis at ${REDIS_URL}`, redisUp, ['compat: migrating from ms-token 5.0.1']) && peers;

if (ready) {
  defineMigrationScenarios('facade on the ioredis 4 connection ms-token uses', () =>
    openRedis4(REDIS_URL),
  );
  defineMigrationScenarios(
    'facade on ioredis 5',
    () => openRedis4(REDIS_URL),
    async () => (await openClient(REDIS_URL)) as unknown as Redis4,
  );

  describe("compat: migrating from ms-token 5.0.1's default prefix", () => {
    let client: Redis4;
    const action = `default-prefix-${process.pid}-${randomSuffix(6)}`;
    beforeAll(async () => {
      client = await openRedis4(REDIS_URL);
    });
    afterAll(async () => {
      // Only this run's keys: the default prefixes are shared.
      const mine = (await keysOf(client as unknown as Redis, 'tessera')).filter((k) =>
        k.includes(encodeURIComponent(action)),
      );
      if (mine.length > 0) await client.del(...mine);
      const legacy = await client.keys(`{ms-token!5.0.1}${action}*`);
      if (legacy.length > 0) await client.del(...legacy);
      await client.quit();
    });

    it('finds challenges under {ms-token!5.0.1} when neither side names a prefix', async () => {
      const ms = new (loadMsToken())({
        backend: { name: 'redis', connection: client },
        encrypt: { algorithm: 'aes256', sharedSecret: Buffer.from(SHARED_SECRET) },
      });
      const tm = new TokenManager({
        backend: { name: 'redis', connection: client },
        encrypt: { algorithm: 'aes256', sharedSecret: SHARED_SECRET },
        defaultTtl: 'never',
      } as never);
      const { secret } = await ms.create({ action, id: ID, ttl: 600, metadata: { n: 1 } });
      expect(await client.exists(`{ms-token!5.0.1}${action}!${ID}`)).toBe(1);
      const done = await tm.verify(secret as string);
      expect(done).toMatchObject({ action, id: ID, metadata: { n: 1 }, isFirstVerification: true });
      expect(code(await failure(ms.verify(secret as string)))).toBe('404');
    });
  });
}
