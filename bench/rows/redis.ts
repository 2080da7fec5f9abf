/**
 * Rows on one Redis server:
 * - row 3: challenge create + verify, Tessera (Redis store) against ms-token
 *   5.0.1 (ioredis 4, from bench/peers), sequential and with 100 in flight;
 * - row 4 (Redis): action-token `use()` against a raw EVALSHA conditional
 *   decrement (HGET, compare, HINCRBY), 16 in flight, one token or key per worker.
 * Row 6 (sessions) is in sessions.ts.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createActionTokens } from '../../src/action-tokens/index.js';
import { createChallenges } from '../../src/challenges/index.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { testKeyring } from '../../src/testing/index.js';
import { type Entry, type Row, unavailable } from '../harness.js';
import { peersInstalled, REDIS_URL, redisReachable, requirePeer } from './backends.js';
import { patVerifyOp } from './pat-verify-op.js';

const IDS = [
  { id: 'challenges-seq', title: 'Challenge create + verify, Redis, sequential' },
  { id: 'challenges-100', title: 'Challenge create + verify, Redis, 100 in flight' },
  { id: 'use-redis', title: 'Action token use(), Redis store' },
  { id: 'pat-verify-redis', title: 'PAT verify, Redis store' },
];

const CEILING_LUA = `
local n = tonumber(redis.call('HGET', KEYS[1], 'n'))
if n ~= nil and n > 0 then return redis.call('HINCRBY', KEYS[1], 'n', -1) end
return -1
`;
const WORKERS = 16;

interface MsToken {
  create(args: { action: string; id: string; ttl: number }): Promise<{ secret: string }>;
  verify(secret: string): Promise<unknown>;
}

/** Delete every key under a prefix pattern. */
async function scrub(client: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.unlink(...keys);
  } while (cursor !== '0');
}

/** The rows this file contributes (skipped when Redis is not reachable). */
export async function redisRows(): Promise<Entry[]> {
  if (!(await redisReachable())) return unavailable(`Redis at ${REDIS_URL}`, IDS);
  if (!peersInstalled())
    throw new Error('bench/peers is not installed: npm ci --prefix bench/peers');
  const run = randomBytes(3).toString('hex');
  const prefix = `tessera-bench-${run}`;
  let client: Redis | undefined;
  let peerIo: { quit(): Promise<unknown> } | undefined;
  // Each row opens its own connection in setup and removes its keys in teardown.
  const open = async () => {
    client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    return client;
  };
  const close = async () => {
    if (!client) return;
    await scrub(client, `{${prefix}*`);
    await scrub(client, `${prefix}*`);
    await client.quit();
    client = undefined;
  };

  // Row 3: challenges against ms-token.
  let tessera: ReturnType<typeof createChallenges> | undefined;
  let ms: MsToken | undefined;
  let n = 0;
  const challengeSetup = async () => {
    const c = await open();
    tessera = createChallenges({
      store: createRedisStore({ client: c, prefix }),
      keyring: testKeyring(),
    });
    {
      const IORedis4 = requirePeer('ioredis') as unknown as new (
        url: string,
      ) => {
        quit(): Promise<unknown>;
      };
      const { TokenManager } = requirePeer('ms-token') as unknown as {
        TokenManager: new (o: unknown) => MsToken;
      };
      peerIo = new IORedis4(REDIS_URL);
      ms = new TokenManager({
        backend: { name: 'redis', connection: peerIo, prefix: `${prefix}-ms:` },
        encrypt: {
          algorithm: 'aes256',
          sharedSecret: Buffer.from('incredibly-long-secret-ooooohooo'),
        },
      });
    }
  };
  const challengeTeardown = async () => {
    await peerIo?.quit();
    peerIo = undefined;
    await close();
  };
  const challengeRow = (id: string, concurrency: number): Row => ({
    id,
    title: IDS.find((x) => x.id === id)!.title,
    subject: {
      name: 'Tessera create + verify',
      op: async () => {
        const { secret } = await tessera!.create({ action: 'bench', id: `u${n++}`, ttl: 3600 });
        await tessera!.verify(secret!);
      },
    },
    baseline: {
      name: 'ms-token 5.0.1 create + verify',
      op: async () => {
        const { secret } = await ms!.create({ action: 'bench', id: `u${n++}`, ttl: 3600 });
        await ms!.verify(secret);
      },
    },
    concurrency,
    target: 3,
    setup: challengeSetup,
    teardown: challengeTeardown,
  });

  // Row 4: use() against a raw EVALSHA.
  let useOp: () => Promise<unknown> = async () => undefined;
  let rawOp: () => Promise<unknown> = async () => undefined;
  const useRow: Row = {
    id: 'use-redis',
    title: IDS[2]!.title,
    subject: { name: 'Tessera use()', op: () => useOp() },
    baseline: { name: 'raw EVALSHA decrement', op: () => rawOp() },
    concurrency: WORKERS,
    target: 0.7,
    setup: async () => {
      const c = await open();
      const store = createRedisStore({ client: c, prefix });
      const tokens = createActionTokens({ store, keyring: testKeyring() });
      const values: string[] = [];
      for (let w = 0; w < WORKERS; w++) {
        const { value } = await tokens.create({
          owner: `bench-${w}@example.com`,
          action: 'bench',
          remainingUses: 1_000_000,
          ttlSeconds: 86_400,
        });
        values.push(value);
      }
      const sha = (await c.script('LOAD', CEILING_LUA)) as string;
      const keys = Array.from({ length: WORKERS }, (_, w) => `{${prefix}:raw}:${w}`);
      for (const k of keys) await c.hset(k, 'n', 1_000_000_000);
      let i = 0;
      let j = 0;
      useOp = async () => {
        const w = i++ % WORKERS;
        const r = await tokens.tryUse({
          owner: `bench-${w}@example.com`,
          action: 'bench',
          value: values[w]!,
          drainWhenValid: false,
        });
        if (!r.valid) throw new Error(`use failed: ${r.reason}`);
      };
      rawOp = async () => {
        const r = await c.evalsha(sha, 1, keys[j++ % WORKERS]!);
        if (Number(r) < 0) throw new Error('ceiling ran out');
      };
    },
    teardown: close,
  };

  // PAT verify (no cache: one store read per call) against the same raw EVALSHA.
  let patOp: () => Promise<unknown> = async () => undefined;
  let patRawOp: () => Promise<unknown> = async () => undefined;
  const patRow: Row = {
    id: 'pat-verify-redis',
    title: IDS[3]!.title,
    subject: { name: 'Tessera PAT verify() (no cache)', op: () => patOp() },
    baseline: { name: 'raw EVALSHA decrement', op: () => patRawOp() },
    concurrency: WORKERS,
    setup: async () => {
      const c = await open();
      patOp = await patVerifyOp(createRedisStore({ client: c, prefix }), WORKERS);
      const sha = (await c.script('LOAD', CEILING_LUA)) as string;
      const keys = Array.from({ length: WORKERS }, (_, w) => `{${prefix}:rawpat}:${w}`);
      for (const k of keys) await c.hset(k, 'n', 1_000_000_000);
      let j = 0;
      patRawOp = async () => {
        const r = await c.evalsha(sha, 1, keys[j++ % WORKERS]!);
        if (Number(r) < 0) throw new Error('ceiling ran out');
      };
    },
    teardown: close,
  };

  return [challengeRow('challenges-seq', 1), challengeRow('challenges-100', 100), useRow, patRow];
}
