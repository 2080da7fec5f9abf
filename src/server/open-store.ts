/**
 * Open a store from a URL, for the service and the CLI. Drivers load lazily,
 * so an unused backend's package need not be installed; a missing one is a
 * `ConfigError` that says which package to install.
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { Store } from '../stores/contract.js';

/** The backends `openStore` knows, by URL scheme. */
export const STORE_SCHEMES = [
  'sqlite:',
  'memory:',
  'redis:',
  'rediss:',
  'postgres:',
  'postgresql:',
  'dynamodb:',
] as const;

/** Hide the password of a URL for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*):([^@/]*)@/g, '//$1:***@');
}

/** Split `?a=b&c=d` off the end of a URL (a Redis seed list may hold commas before it). */
function splitQuery(url: string): [string, URLSearchParams] {
  const i = url.indexOf('?');
  if (i < 0) return [url, new URLSearchParams()];
  return [url.slice(0, i), new URLSearchParams(url.slice(i + 1))];
}

/** Import a store module, turning a missing driver package into a clear ConfigError. */
async function load<T>(what: string, driver: string, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') {
      throw new ConfigError(
        `the ${what} store needs the ${driver} package: npm install ${driver} (${e.message.split('\n')[0]})`,
      );
    }
    throw err;
  }
}

function wrapTypeError(url: string, fn: () => Store): Store {
  try {
    return fn();
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) {
      throw new ConfigError(`bad store URL "${redactUrl(url)}": ${err.message}`);
    }
    throw err;
  }
}

/**
 * Create (without connecting or migrating) the store a URL names.
 *
 * - `sqlite:` — `<dataDir>/tessera.db` (the directory is created);
 *   `sqlite:relative/or/absolute/path.db` — that file.
 * - `memory:` — in-process; everything is lost on exit.
 * - `redis://[user:pass@]host[:port][/db]`, `rediss://…` (TLS); a Redis
 *   Cluster seed list `redis://h1:7000,h2:7001` (or one URL with `?cluster=1`);
 *   `?prefix=<p>` sets the key prefix (default `tessera`).
 * - `postgres://…` / `postgresql://…`; `?schema=<s>` sets the schema (default `tessera`).
 * - `dynamodb:<table>?region=…&endpoint=…` (table default `tessera`);
 *   `&accessTokensTable=<t>` reads and writes access tokens in an existing
 *   @access-tokens/core table `<t>`, in that package's format.
 *
 * @throws ConfigError for an unknown scheme, a malformed URL or a missing driver
 */
export async function createStoreFromUrl(url: string, dataDir: string): Promise<Store> {
  const scheme = url.slice(0, url.indexOf(':') + 1).toLowerCase();
  if (scheme === 'memory:') {
    if (url !== 'memory:') throw new ConfigError('memory: takes no path');
    const { createMemoryStore } = await import('../stores/memory/index.js');
    return createMemoryStore();
  }
  if (scheme === 'sqlite:') {
    const rest = url.slice('sqlite:'.length).replace(/^\/\//, '');
    let path: string;
    if (rest === '') {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      path = join(dataDir, 'tessera.db');
      // Create the file owner-only before SQLite opens it (its -wal/-shm files inherit the mode).
      writeFileSync(path, '', { flag: 'a', mode: 0o600 });
    } else {
      path = isAbsolute(rest) ? rest : resolve(rest);
    }
    const { createSqliteStore } = await load(
      'sqlite',
      'better-sqlite3',
      () => import('../stores/sqlite/index.js'),
    );
    return createSqliteStore({ path });
  }
  if (scheme === 'redis:' || scheme === 'rediss:') {
    const [base, q] = splitQuery(url);
    for (const k of q.keys()) {
      if (k !== 'prefix' && k !== 'cluster')
        throw new ConfigError(`unknown redis URL parameter "${k}" (prefix, cluster)`);
    }
    const { createRedisStore } = await load(
      'redis',
      'ioredis',
      () => import('../stores/redis/index.js'),
    );
    const prefix = q.get('prefix') ?? undefined;
    const cluster = q.get('cluster') === '1' || q.get('cluster') === 'true';
    return wrapTypeError(url, () =>
      createRedisStore({ url: base, prefix, cluster, connectTimeoutMs: 5000 }),
    );
  }
  if (scheme === 'postgres:' || scheme === 'postgresql:') {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new ConfigError(`bad store URL "${redactUrl(url)}"`);
    }
    const schema = u.searchParams.get('schema') ?? undefined;
    u.searchParams.delete('schema');
    const { createPostgresStore } = await load(
      'postgres',
      'pg',
      () => import('../stores/postgres/index.js'),
    );
    return wrapTypeError(url, () =>
      createPostgresStore({ url: u.toString() }, schema ? { schema } : {}),
    );
  }
  if (scheme === 'dynamodb:') {
    const [base, q] = splitQuery(url);
    const table = base.slice('dynamodb:'.length).replace(/^\/+/, '');
    const patTable = q.get('accessTokensTable');
    q.delete('accessTokensTable');
    const full = `dynamodb:${table === '' ? 'tessera' : table}${q.size > 0 ? `?${q}` : ''}`;
    const dynamo = await load(
      'dynamodb',
      '@aws-sdk/client-dynamodb',
      () => import('../stores/dynamodb/index.js'),
    );
    return wrapTypeError(url, () => {
      const options = dynamo.parseDynamoUrl(full);
      if (!patTable) return dynamo.createDynamoStore(options);
      // Access tokens live in an existing @access-tokens/core table, in its own format.
      return dynamo.createDynamoStore({
        ...options,
        layouts: {
          pat: dynamo.createAccessTokensSeedLayout({
            tableName: patTable,
            indexes: { owner: { field: 'owner' } },
          }),
        },
      });
    });
  }
  throw new ConfigError(
    `unknown store "${redactUrl(url)}": use one of ${STORE_SCHEMES.join(', ')} (with a path for sqlite:)`,
  );
}

/**
 * Open and migrate the store a URL names (see {@link createStoreFromUrl}).
 *
 * @param url - the store URL
 * @param dataDir - the service's data directory
 * @throws ConfigError for an unknown scheme; StoreUnavailableError when the store cannot be reached
 * @example `const store = await openStore('sqlite:', './.tessera');`
 */
export async function openStore(url: string, dataDir: string): Promise<Store> {
  const store = await createStoreFromUrl(url, dataDir);
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  return store;
}
