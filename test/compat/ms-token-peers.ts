/**
 * The real ms-token 5.0.1 and the ioredis 4 it runs on, loaded from the
 * isolated bench/peers project (`npm ci --prefix bench/peers`; CI installs it
 * before the tests), for differential and migration tests of the facade.
 */
import type { Redis as Redis5 } from 'ioredis';
import { peersInstalled, requirePeer } from '../../bench/rows/backends.js';
import { gateBackend } from '../support/backends.js';

/** What the tests use of an ioredis 4 client (shaped like ioredis 5's, which types it). */
export type Redis4 = Redis5;

/** ioredis 4: `Redis` (default export) and `Cluster`. */
export interface IoRedis4 {
  new (url: string, options?: Record<string, unknown>): Redis4;
  Cluster: new (
    nodes: ReadonlyArray<{ host: string; port: number }>,
    options?: Record<string, unknown>,
  ) => Redis4;
}

/** ms-token 5's `TokenManager`, as the tests call it. */
export interface MsTokenManager {
  create(args: unknown): Promise<{ id: string; action: string; uid?: string; secret?: string }>;
  info(args: unknown): Promise<Record<string, unknown>>;
  verify(args: unknown, opts?: unknown): Promise<Record<string, unknown>>;
  regenerate(args: unknown): Promise<string>;
  remove(args: unknown): Promise<unknown>;
}

/** ms-token 5's module. */
export interface MsTokenModule {
  new (opts: unknown): MsTokenManager;
}

/**
 * Whether bench/peers is installed; when it is not, the named suites are
 * skipped with a warning (or fail, in CI).
 */
export function gatePeers(suites: readonly string[]): boolean {
  return gateBackend(
    'ms-token 5.0.1 and ioredis 4 in bench/peers (npm ci --prefix bench/peers)',
    peersInstalled(),
    suites,
  );
}

/** ioredis 4 from bench/peers. */
export function loadIoRedis4(): IoRedis4 {
  return requirePeer('ioredis') as IoRedis4;
}

/** ms-token 5.0.1 from bench/peers. */
export function loadMsToken(): MsTokenModule {
  const mod = requirePeer('ms-token') as MsTokenModule & { default?: MsTokenModule };
  return mod.default ?? mod;
}

/** Open an ioredis 4 client on `url` and wait until it is ready. */
export async function openRedis4(url: string): Promise<Redis4> {
  const IoRedis = loadIoRedis4();
  const client = new IoRedis(url);
  client.on('error', () => {});
  if (client.status !== 'ready') await new Promise((r) => client.once('ready', r));
  return client;
}

/** Every key whose name starts with `prefix` (ms-token's raw layout), on every master. */
export async function scanRaw(client: Redis4, prefix: string): Promise<string[]> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  const c = client as unknown as { isCluster?: boolean; nodes(role: string): Redis4[] };
  const nodes = c.isCluster === true ? c.nodes('master') : [client];
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

/** Delete every key whose name starts with `prefix` (ms-token's raw layout). */
export async function scrubPrefix(client: Redis4, prefix: string): Promise<number> {
  const keys = await scanRaw(client, prefix);
  for (const key of keys) await client.del(key);
  return keys.length;
}

/** Open an ioredis 4 `Cluster` on `nodes` and wait until it is ready. */
export async function openCluster4(
  nodes: ReadonlyArray<{ host: string; port: number }>,
): Promise<Redis4> {
  const IoRedis = loadIoRedis4();
  const client = new IoRedis.Cluster(nodes);
  client.on('error', () => {});
  if (client.status !== 'ready') await new Promise((r) => client.once('ready', r));
  return client;
}
