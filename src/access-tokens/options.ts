/**
 * Checked, defaulted options of the access-tokens module, and the context its
 * parts share.
 * @module
 */
import { type Clock, systemClock } from '../core/clock.js';
import type { ScryptPhcOptions } from '../core/hashing.js';
import type { Keyring } from '../core/keyring.js';
import type { RecordRef, Store } from '../stores/contract.js';
import { createVerifyCache, type VerifyCache } from './cache.js';
import { createTokenCodec, isTokenId, type TokenCodec } from './format.js';
import { createInvalidationFeed, type InvalidationFeed } from './invalidation.js';
import { createSecretHasher, phcProblem, type SecretHasher, scryptParamsProblem } from './phc.js';
import type { AccessTokensOptions, SecretHash, TokenFormat } from './types.js';

/** The default interval between two `lastUsedAt` writes of one token, in seconds. */
export const DEFAULT_LAST_USED_INTERVAL_SECONDS = 60;
/** The default retention of expired tokens, in seconds (30 days). */
export const DEFAULT_RETAIN_EXPIRED_SECONDS = 2_592_000;
/** The default life of a verify cache entry, in ms. */
export const DEFAULT_CACHE_TTL_MS = 5000;
/** The default size of the verify cache. */
export const DEFAULT_CACHE_MAX_ENTRIES = 10_000;

const COLLECTION_RE = /^[a-z][a-z0-9_-]{0,31}$/;

/**
 * The caches of every instance in this process, by store object and
 * collection, so a change made through one instance drops the entry from all
 * of them at once, whatever the store's event latency.
 */
const localCaches = new WeakMap<Store, Map<string, Set<VerifyCache>>>();

function register(store: Store, collection: string, cache: VerifyCache): () => void {
  let byCollection = localCaches.get(store);
  if (byCollection === undefined) {
    byCollection = new Map();
    localCaches.set(store, byCollection);
  }
  let set = byCollection.get(collection);
  if (set === undefined) {
    set = new Set();
    byCollection.set(collection, set);
  }
  set.add(cache);
  return () => {
    set.delete(cache);
    if (set.size === 0) byCollection.delete(collection);
  };
}

/** What the parts of the module share. */
export interface Context {
  readonly store: Store;
  readonly collection: string;
  readonly clock: Clock;
  readonly keyring: Keyring | undefined;
  readonly codec: TokenCodec;
  readonly hasher: SecretHasher;
  /** Hash of new secrets. */
  readonly hash: SecretHash;
  /** Format of new token strings. */
  readonly format: TokenFormat;
  readonly lastUsedIntervalMs: number;
  readonly retainMs: number;
  readonly cache: VerifyCache | undefined;
  /** The cache's subscription to other instances' changes (with a cache only). */
  readonly feed: InvalidationFeed | undefined;
  readonly bootstrapPhc: string | undefined;
  /** The store address of a token. */
  ref(tokenId: string): RecordRef;
  /** Drop a token from every cache: this process's at once, others' through store events. */
  notify(tokenId: string): Promise<void>;
  /** Stop listening, and leave this process's registry of caches. */
  close(): Promise<void>;
}

/** The default `onError`: a process warning (never the token's secret: errors carry ids only). */
function warn(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  process.emitWarning(`tessera access-tokens: store events: ${message}`);
}

function intIn(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in ${min}..${max}`);
  }
  return value;
}

/**
 * Check and default the options.
 * @throws TypeError / RangeError for bad options
 */
export function resolveOptions(options: AccessTokensOptions): Context {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('options must be an object');
  }
  const { store, keyring } = options;
  if (!store || typeof store.update !== 'function' || typeof store.get !== 'function') {
    throw new TypeError('options.store must be a Store');
  }
  if (keyring !== undefined && (!keyring || typeof keyring.deriveKey !== 'function')) {
    throw new TypeError('options.keyring must be a Keyring');
  }
  const clock = options.clock ?? systemClock;
  if (typeof clock?.now !== 'function') throw new TypeError('options.clock must be a Clock');
  const collection = options.collection ?? 'pat';
  if (typeof collection !== 'string' || !COLLECTION_RE.test(collection)) {
    throw new TypeError('options.collection must match /^[a-z][a-z0-9_-]{0,31}$/');
  }
  const format = options.format ?? 'tessera';
  if (format !== 'tessera' && format !== 'legacy') {
    throw new TypeError("options.format must be 'tessera' or 'legacy'");
  }
  const codec = createTokenCodec({ prefix: options.prefix, secretBytes: options.secretBytes });
  const hash: SecretHash = options.hash ?? (keyring === undefined ? 'sha256' : 'hmac-sha256');
  if (hash !== 'sha256' && hash !== 'hmac-sha256' && hash !== 'scrypt') {
    throw new TypeError("options.hash must be 'sha256', 'hmac-sha256' or 'scrypt'");
  }
  const scrypt: Required<ScryptPhcOptions> = {
    ln: 14,
    r: 8,
    p: 1,
    saltBytes: 16,
    keyBytes: 32,
    ...options.scrypt,
  };
  const scryptProblem = scryptParamsProblem(scrypt);
  if (scryptProblem !== undefined) throw new RangeError(`options.scrypt: ${scryptProblem}`);
  const hasher = createSecretHasher(hash, keyring, scrypt);
  const lastUsedIntervalMs =
    intIn(
      options.lastUsedIntervalSeconds ?? DEFAULT_LAST_USED_INTERVAL_SECONDS,
      'options.lastUsedIntervalSeconds',
      0,
      86_400,
    ) * 1000;
  const retainMs =
    intIn(
      options.retainExpiredSeconds ?? DEFAULT_RETAIN_EXPIRED_SECONDS,
      'options.retainExpiredSeconds',
      0,
      31_622_400,
    ) * 1000;
  let cache: VerifyCache | undefined;
  if (options.cache !== undefined && options.cache !== false) {
    if (typeof options.cache !== 'object' || options.cache === null) {
      throw new TypeError('options.cache must be an object or false');
    }
    cache = createVerifyCache(
      intIn(options.cache.ttlMs ?? DEFAULT_CACHE_TTL_MS, 'options.cache.ttlMs', 1, 300_000),
      intIn(
        options.cache.maxEntries ?? DEFAULT_CACHE_MAX_ENTRIES,
        'options.cache.maxEntries',
        1,
        1_000_000,
      ),
    );
  }
  const bootstrapPhc = options.bootstrapPhc;
  if (bootstrapPhc !== undefined) {
    const problem = phcProblem(bootstrapPhc, keyring);
    if (problem !== undefined) throw new TypeError(`Invalid bootstrap PHC string: ${problem}`);
  }

  const onError = options.onError ?? warn;
  if (typeof onError !== 'function') throw new TypeError('options.onError must be a function');

  const channel = `${collection}:changed`;
  const feed =
    cache === undefined
      ? undefined
      : createInvalidationFeed({
          events: store.events,
          channel,
          cache,
          onMessage: (message) => {
            if (isTokenId(message)) cache.invalidate(message);
          },
          onError,
        });

  const unregister = cache === undefined ? undefined : register(store, collection, cache);

  return Object.freeze({
    store,
    collection,
    clock,
    keyring,
    codec,
    hasher,
    hash,
    format,
    lastUsedIntervalMs,
    retainMs,
    cache,
    feed,
    bootstrapPhc,
    ref: (tokenId: string): RecordRef => ({ collection, key: tokenId }),
    async notify(tokenId: string) {
      cache?.invalidate(tokenId);
      for (const other of localCaches.get(store)?.get(collection) ?? []) other.invalidate(tokenId);
      try {
        await store.events.publish(channel, tokenId);
      } catch (err) {
        // The change itself is stored; other processes' caches drop it after ttlMs at the latest.
        try {
          onError(err);
        } catch {
          // A failing error handler must not fail the change.
        }
      }
    },
    async close() {
      unregister?.();
      await feed?.close();
    },
  });
}
