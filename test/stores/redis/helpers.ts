/** Shared pieces of the Redis tests. */
import { type Cluster, Redis, type RedisOptions } from 'ioredis';
import { keyLayout } from '../../../src/stores/redis/index.js';
import { randomSuffix } from '../../../src/testing/index.js';

/** A prefix no other run uses. */
export function runPrefix(what: string): string {
  return `tessera-test:${what}:${process.pid}:${randomSuffix(4)}`;
}

/** Options for test clients: fail fast, never resend a write. */
export const CLIENT_OPTIONS = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  commandTimeout: 20_000,
} as const;

/** Open a client (with {@link CLIENT_OPTIONS} and `extra`) and wait until it is ready. */
export async function openClient(url: string, extra: RedisOptions = {}): Promise<Redis> {
  const client = new Redis(url, { ...CLIENT_OPTIONS, ...extra });
  client.on('error', () => {});
  if (client.status !== 'ready') await new Promise((r) => client.once('ready', r));
  return client;
}

/** Every key of a prefix, on every master. */
export async function keysOf(client: Redis | Cluster, prefix: string): Promise<string[]> {
  const pattern = keyLayout(prefix).pattern();
  const nodes: Redis[] = client.isCluster ? (client as Cluster).nodes('master') : [client as Redis];
  const out: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      out.push(...found);
    } while (cursor !== '0');
  }
  return out.sort();
}

/** Delete every key of a prefix (tests clean up after themselves). */
export async function deleteKeys(client: Redis | Cluster, prefix: string): Promise<number> {
  const all = await keysOf(client, prefix);
  await Promise.all(all.map((k) => client.unlink(k)));
  return all.length;
}

/**
 * Kill the pub/sub connection(s) a client named `name` opened (ioredis gives a
 * `duplicate()` its original's `connectionName`), by id, so no other test's
 * subscriber on the same server is touched.
 * @returns how many connections were killed
 */
export async function killSubscriber(admin: Redis, name: string): Promise<number> {
  const list = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
  const ids = list
    .split('\n')
    .filter((line) => line.split(' ').includes(`name=${name}`))
    .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1])
    .filter((id): id is string => id !== undefined);
  for (const id of ids) await admin.call('CLIENT', 'KILL', 'ID', id);
  return ids.length;
}
