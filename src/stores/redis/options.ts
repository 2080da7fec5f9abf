/**
 * Options and the public type of the Redis store, and opening its connection.
 * @module
 */
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { Store } from '../contract.js';
import type { KeyLayout } from './keys.js';

/** An ioredis connection: a single server or a cluster. */
export type RedisClient = Redis | Cluster;

/** Options shared by both ways of giving the store a connection. */
export interface RedisStoreCommonOptions {
  /**
   * Key prefix of this deployment (default `'tessera'`), 1..64 characters
   * without control characters or spaces. Stores with different prefixes never
   * see each other's keys or events. `{`, `}` and `%` are percent-encoded in
   * key names, because the store places its own hash tags.
   */
  readonly prefix?: string;
  /**
   * How long after `expiresAt` Redis may collect a record by itself (PXAT), ms
   * (default 600000 = 10 min). The collection time is never earlier than this
   * long after the write either, so a caller whose clock is behind Redis's
   * still reads what it wrote. Validity is always decided by the caller's clock.
   */
  readonly gcGraceMs?: number;
  /**
   * Whether every key is reachable from one script (default: `true` for an
   * ioredis `Redis` client or a single URL, `false` for a `Cluster`, a seed
   * list or `cluster: true`). On a single server a write keeps its record,
   * list and index entries in one script, one round trip; otherwise entries
   * live under their own hash tags and are added before and settled after the
   * record script. A store that meets a server enforcing slots (`CROSSSLOT`)
   * switches to the Cluster protocol by itself; set `false` to start there
   * (e.g. behind a proxy that enforces slots).
   */
  readonly singleNode?: boolean;
  /**
   * Run each write as a Lua script compiled for its shape (the op types,
   * field names and operators it uses; default `true`): Redis then runs
   * straight-line code instead of interpreting the op list on every call.
   * `false` always runs the interpreted script (same answers, more server
   * CPU). Shapes are compiled once per process (at most 256; further shapes
   * and writes of more than 8 ops are interpreted).
   */
  readonly compileScripts?: boolean;
  /**
   * How long after the store sends a write the write may still run, ms
   * (default 10000). Writes are applied at most once per call, whatever the
   * client does: a client may deliver a command twice (ioredis resends
   * unanswered commands after a reconnect, a Cluster client retries after a
   * closed connection), so each write call carries a unique id and Redis keeps
   * the answer of an applied write for `maxWriteDelayMs` + 10 s, under a key
   * of the partition's hash tag; a second delivery gets that answer back
   * without running again. A delivery that reaches Redis later than this
   * (measured on Redis's clock) does not run and the call fails with
   * `StoreUnavailableError`. Memory: about the size of the answer (the
   * records before and after) plus 100 bytes per write, for that long.
   */
  readonly maxWriteDelayMs?: number;
  /**
   * Receives failures of background bookkeeping that do not change an
   * operation's outcome (index and list entries after a committed write,
   * subscriber connection errors, listener errors, background reads of
   * Redis's clock). Default: ignored.
   */
  readonly onError?: (err: unknown) => void;
}

/**
 * Use an ioredis `Redis` or `Cluster` the application already has; the store
 * never closes it. Any client settings are safe: writes are applied at most
 * once per call even when the client resends them (see `maxWriteDelayMs`).
 * Recommended settings, so that calls fail fast (as `StoreUnavailableError`)
 * while Redis is unreachable instead of waiting in the client's queues:
 * `enableOfflineQueue: false` (or `maxRetriesPerRequest: 0`),
 * `autoResendUnfulfilledCommands: false`, a `commandTimeout`; and on the
 * server `maxmemory-policy noeviction` (an evicted key would lose a
 * credential, or the answer that keeps a resent write from running twice).
 */
export interface RedisStoreClientOptions extends RedisStoreCommonOptions {
  readonly client: RedisClient;
  readonly url?: undefined;
}

/** Open a connection from a URL; the store owns it and closes it on `close()`. */
export interface RedisStoreUrlOptions extends RedisStoreCommonOptions {
  /**
   * `redis://[user:password@]host[:port][/db]`, `rediss://...` (TLS), or a
   * cluster seed list: several URLs (or `host:port` after the first URL)
   * separated by commas, e.g. `redis://10.0.0.1:7000,10.0.0.2:7000`.
   */
  readonly url: string;
  readonly client?: undefined;
  /** Treat a single URL as a cluster seed (default: only a list is a cluster). */
  readonly cluster?: boolean;
  /** Connect timeout, and how long the first call waits for the connection, ms (default 10000). */
  readonly connectTimeoutMs?: number;
  /** Fail a command that gets no reply within this time, ms (default 10000). */
  readonly commandTimeoutMs?: number;
}

/** Options of `createRedisStore`. */
export type RedisStoreOptions = RedisStoreClientOptions | RedisStoreUrlOptions;

/** Options of {@link RedisStore.startSweeper}. */
export interface RedisSweeperOptions {
  /** Time between runs, ms (default 60000). */
  readonly intervalMs?: number;
  /** The clock whose `now()` each run sweeps at (default `Date.now`). */
  readonly clock?: { now(): number };
  /** Records deleted per `sweep` call (default 1000); full calls repeat within a run. */
  readonly limit?: number;
  /** Grace passed to `sweep`, ms (default 0). */
  readonly graceMs?: number;
  /** Receives errors of a run (default: `process.emitWarning`); the sweeper keeps going. */
  readonly onError?: (err: unknown) => void;
}

/** The Redis store: a {@link Store} plus its connection, key layout and a sweeper. */
export interface RedisStore extends Store {
  readonly kind: 'redis';
  /** The connection the store uses (the caller's, or the one it opened). */
  readonly client: RedisClient;
  /** The key names of this store's prefix. */
  readonly keys: KeyLayout;
  /**
   * Run {@link Store.sweep} every `intervalMs` in the background, repeating
   * while calls come back full. Redis collects expired records by itself
   * (PXAT); the sweeper also removes their list and index entries and bounds
   * how long a record outlives its expiry. The timer is `unref()`d and stops
   * when the store is closed.
   *
   * @returns a function that stops this sweeper
   * @throws RangeError for a non-positive `intervalMs` or `limit`
   * @example `const stop = store.startSweeper({ intervalMs: 30_000 });`
   */
  startSweeper(options?: RedisSweeperOptions): () => void;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const PREFIX_RE = /^[^\s\u0000-\u001f\u007f]{1,64}$/;

/**
 * Check the prefix, the grace and the write delay.
 * @throws TypeError for a malformed prefix; RangeError for a bad grace or delay
 */
export function checkCommonOptions(options: RedisStoreCommonOptions): {
  prefix: string;
  gcGraceMs: number;
  maxWriteDelayMs: number;
} {
  const prefix = options.prefix ?? 'tessera';
  if (typeof prefix !== 'string' || !PREFIX_RE.test(prefix)) {
    throw new TypeError('prefix must be 1..64 characters without spaces or control characters');
  }
  for (const name of ['singleNode', 'compileScripts'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') {
      throw new TypeError(`${name} must be a boolean`);
    }
  }
  const gcGraceMs = options.gcGraceMs ?? 600_000;
  if (!Number.isSafeInteger(gcGraceMs) || gcGraceMs < 0) {
    throw new RangeError('gcGraceMs must be a non-negative integer (ms)');
  }
  const maxWriteDelayMs = options.maxWriteDelayMs ?? 10_000;
  if (
    !Number.isSafeInteger(maxWriteDelayMs) ||
    maxWriteDelayMs < 1 ||
    maxWriteDelayMs > 3_600_000
  ) {
    throw new RangeError('maxWriteDelayMs must be an integer from 1 to 3600000 (ms)');
  }
  return { prefix, gcGraceMs, maxWriteDelayMs };
}

function isClient(value: unknown): value is RedisClient {
  const c = value as { evalsha?: unknown; hgetall?: unknown; duplicate?: unknown } | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.evalsha === 'function' &&
    typeof c.hgetall === 'function' &&
    typeof c.duplicate === 'function'
  );
}

interface ParsedUrl {
  host: string;
  port: number;
  tls: boolean;
  username?: string;
  password?: string;
  db?: number;
}

function parseOne(raw: string, inherit: ParsedUrl | null): ParsedUrl {
  const text = /^[a-z]+:\/\//i.test(raw) ? raw : `${inherit?.tls ? 'rediss' : 'redis'}://${raw}`;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new TypeError(`not a Redis URL: ${raw.replace(/\/\/[^@/]*@/, '//***@')}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new TypeError('url must start with redis:// or rediss://');
  }
  const port = u.port === '' ? 6379 : Number(u.port);
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? undefined : Number(dbText);
  if (db !== undefined && (!Number.isSafeInteger(db) || db < 0)) {
    throw new TypeError('the database in a Redis URL must be a non-negative integer');
  }
  const username = u.username === '' ? inherit?.username : decodeURIComponent(u.username);
  const password = u.password === '' ? inherit?.password : decodeURIComponent(u.password);
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    tls: u.protocol === 'rediss:',
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(db !== undefined ? { db } : {}),
  };
}

/**
 * Parse a URL or a comma-separated cluster seed list.
 * @throws TypeError for anything that is not a redis:// or rediss:// URL
 * @example `parseRedisUrl('redis://a:7000,b:7001').length // 2`
 */
export function parseRedisUrl(url: string): ParsedUrl[] {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new TypeError('url must be a non-empty string');
  }
  const parts = url
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const first = parseOne(parts[0] as string, null);
  return [first, ...parts.slice(1).map((p) => parseOne(p, first))];
}

/**
 * Resolve `{ client }` or `{ url }` to a connection and whether the store owns it.
 * A connection opened from a URL fails fast while Redis is unreachable
 * (`enableOfflineQueue: false`, `maxRetriesPerRequest: 0`), never resends an
 * unanswered write after a reconnect (`autoResendUnfulfilledCommands: false`),
 * and keeps reconnecting in the background (back-off up to 2 s).
 *
 * @throws TypeError for missing, doubled or malformed options
 * @example `const { client, owned } = openClient({ url: 'redis://127.0.0.1:6379' });`
 */
export function openClient(options: RedisStoreOptions): {
  client: RedisClient;
  owned: boolean;
  readyTimeoutMs: number;
} {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createRedisStore takes { client } or { url }');
  }
  const hasClient = options.client !== undefined;
  const hasUrl = options.url !== undefined;
  if (hasClient === hasUrl) {
    throw new TypeError('createRedisStore takes exactly one of { client } or { url }');
  }
  if (hasClient) {
    if (!isClient(options.client)) {
      throw new TypeError('client must be an ioredis Redis or Cluster instance');
    }
    return { client: options.client, owned: false, readyTimeoutMs: 10_000 };
  }
  const o = options as RedisStoreUrlOptions;
  const connectTimeout = o.connectTimeoutMs ?? 10_000;
  const commandTimeout = o.commandTimeoutMs ?? 10_000;
  for (const [name, v] of [
    ['connectTimeoutMs', connectTimeout],
    ['commandTimeoutMs', commandTimeout],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 1)
      throw new RangeError(`${name} must be a positive integer`);
  }
  const nodes = parseRedisUrl(o.url);
  const first = nodes[0] as ParsedUrl;
  const common: RedisOptions = {
    connectTimeout,
    commandTimeout,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    ...(first.username !== undefined ? { username: first.username } : {}),
    ...(first.password !== undefined ? { password: first.password } : {}),
    ...(first.tls ? { tls: {} } : {}),
  };
  let client: RedisClient;
  if (nodes.length > 1 || o.cluster === true) {
    if (nodes.some((n) => n.db !== undefined && n.db !== 0)) {
      throw new TypeError('a Redis Cluster has only database 0');
    }
    const clusterOptions: ClusterOptions = {
      enableOfflineQueue: false,
      enableReadyCheck: true,
      clusterRetryStrategy: (times: number) => Math.min(100 * times, 2000),
      slotsRefreshTimeout: Math.min(connectTimeout, 5000),
      redisOptions: common,
    };
    client = new Cluster(
      nodes.map((n) => ({ host: n.host, port: n.port })),
      clusterOptions,
    );
  } else {
    client = new Redis({
      ...common,
      host: first.host,
      port: first.port,
      ...(first.db !== undefined ? { db: first.db } : {}),
    });
  }
  // Connection errors surface on each call as StoreUnavailableError; keep the
  // emitter from treating them as unhandled.
  client.on('error', () => {});
  return { client, owned: true, readyTimeoutMs: connectTimeout };
}
